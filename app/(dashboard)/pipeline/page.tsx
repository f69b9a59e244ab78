import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { PipelineView } from '@/components/pipeline/pipeline-view';
import { pageUser } from '@/lib/auth/page-access';
import { requireOperator } from '@/lib/pipeline/operators';

export const metadata: Metadata = { title: 'Pipeline' };

export default async function PipelinePage() {
  const user = await pageUser('/pipeline');
  try {
    requireOperator(user);
  } catch {
    notFound();
  }
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold tracking-tight">Pipeline</h1>
      <PipelineView />
    </div>
  );
}
