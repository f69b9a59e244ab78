import Link from 'next/link';
import type { ReactNode } from 'react';
import { Logo } from '@/components/logo';
import { NavLink } from '@/components/nav-link';
import { NotificationBell } from '@/components/notifications/notification-bell';
import { SignOutButton } from '@/components/sign-out-button';
import { ThemeToggle } from '@/components/theme-toggle';
import { pageUser } from '@/lib/auth/page-access';
import { isOperator } from '@/lib/pipeline/operators';

export const dynamic = 'force-dynamic';

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const user = await pageUser();
  return (
    <div className="min-h-screen">
      <header className="z-20 border-b sm:sticky sm:top-0 border-slate-200 bg-white/90 backdrop-blur">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-2 px-4 py-2.5 sm:flex-nowrap sm:gap-4">
          <Link href="/sites" aria-label="Eddy home">
            <Logo />
          </Link>
          {/* Wraps on a phone instead of scrolling out of sight: every item stays visible. */}
          <nav
            className="order-last flex w-full flex-wrap items-center gap-1 sm:order-none sm:w-auto sm:min-w-0 sm:flex-1"
            aria-label="Main"
          >
            <NavLink href="/sites">Sites</NavLink>
            <NavLink href="/teams">Teams</NavLink>
            <NavLink href="/account">Account</NavLink>
            {isOperator(user) && <NavLink href="/pipeline">Pipeline</NavLink>}
          </nav>
          <span className="hidden max-w-[14rem] truncate text-sm text-slate-500 md:inline" data-testid="user-email">
            {user.email}
          </span>
          <span className="ml-auto sm:hidden" />
          <ThemeToggle />
          <NotificationBell />
          <SignOutButton />
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
    </div>
  );
}
