import { PageLoading } from '@/components/page-loading';

// The site layout above has already checked access (404); this page checks nothing more.
export default function Loading() {
  return <PageLoading label="the snippet" />;
}
