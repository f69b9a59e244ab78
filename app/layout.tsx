import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { Providers } from '@/components/providers';
import { themeBootScript } from '@/components/theme-toggle';
import './globals.css';

// Pages set their own title ("Sites", "Alerts" …); the template names the product after it. The
// icon is app/icon.svg (Next.js links it).
export const metadata: Metadata = {
  title: { default: 'Eddy — real-time web analytics', template: '%s · Eddy' },
  description: 'Cookieless, real-time web analytics.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* The theme the visitor chose, before the first paint (no flash); CSP allows inline scripts for the App Router. */}
        <script dangerouslySetInnerHTML={{ __html: themeBootScript }} />
      </head>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
