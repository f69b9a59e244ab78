import type { Metadata } from 'next';
import Link from 'next/link';
import { Logo } from '@/components/logo';

// Every unknown URL, and every notFound() — pages answer 404 for what the user may not see, too.
export const metadata: Metadata = { title: 'Not found' };

export default function NotFound() {
  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col items-center justify-center gap-4 px-4 text-center">
      <Logo />
      <h1 className="text-xl font-semibold">Page not found</h1>
      <p className="text-sm text-slate-600">This page does not exist, or you do not have access to it.</p>
      <Link href="/sites" className="text-sm font-medium text-indigo-600 hover:underline">
        Go to your sites
      </Link>
    </main>
  );
}
