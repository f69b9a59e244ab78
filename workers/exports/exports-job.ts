import type pg from 'pg';
import type { Bus } from '@/lib/bus';
import { runNextExport } from '@/lib/exports/background';
import { queueJob, type QueueJob } from '../shared/queue-job';

// The exports job: prepares background exports (lib/exports/background.ts) one after another,
// polling every `everyMs`. Several workers may run it: each export is claimed with SKIP LOCKED.

export function exportsJob(deps: { db: pg.Pool; bus: Bus | null; clock?: () => number }): QueueJob {
  const clock = deps.clock ?? Date.now;
  return queueJob('exports', () => runNextExport(deps.db, deps.bus, clock()));
}
