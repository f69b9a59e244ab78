import type { Metadata } from 'next';
import { NotificationList } from '@/components/notifications/notification-list';
import { pageUser } from '@/lib/auth/page-access';

export const metadata: Metadata = { title: 'Notifications' };

export default async function NotificationsPage() {
  await pageUser('/notifications');
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold tracking-tight">Notifications</h1>
      <NotificationList />
    </div>
  );
}
