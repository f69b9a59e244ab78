import { PageLoading } from '@/components/page-loading';

// Only the dashboard page: the route group keeps settings (admin only, its own notFound()) outside this boundary; the site layout above has already answered 404 for a site the user may not see.
export default function Loading() {
  return <PageLoading label="the dashboard" />;
}
