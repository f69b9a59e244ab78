import { PageLoading } from '@/components/page-loading';

// The dashboard layout has already redirected a signed-out visitor; this page calls no notFound().
export default function Loading() {
  return <PageLoading label="notifications" />;
}
