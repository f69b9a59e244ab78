import { closeDb, pool } from '@/lib/db/client';
import { createBus, ensureTopics } from '@/lib/bus';
import { isEddyError } from '@/lib/errors';
import { minuteRollupsJob } from './rollups/minute-rollups';
import { runJob, type RunningJob } from './runtime';

// `npm run worker -- <job…>` runs jobs as consumer-group members; `all` (the default) runs every
// job. Start more processes to scale out: the group spreads partitions over them.

const jobFactories = {
  rollups: minuteRollupsJob,
} as const;
type JobName = keyof typeof jobFactories;

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = (args.length === 0 || args.includes('all') ? Object.keys(jobFactories) : args) as JobName[];
  for (const n of names) {
    if (!(n in jobFactories)) throw new Error(`Unknown job "${n}". Jobs: ${Object.keys(jobFactories).join(', ')}, all`);
  }
  const b = createBus();
  await ensureTopics(b);
  const running: RunningJob[] = [];
  for (const n of names) {
    running.push(await runJob(jobFactories[n](b), b, pool()));
    console.log(`[worker ${process.pid}] job ${n} running (bus: ${b.kind})`);
  }
  // A consumer that stopped by itself will not come back: exit so the supervisor restarts us.
  void Promise.race(running.map((r) => r.consumer.crashed)).then((e) => {
    console.error(`[worker ${process.pid}] consumer crashed: ${e.message}`);
    process.exit(1);
  });
  const shutdown = async () => {
    await Promise.allSettled(running.map((r) => r.stop()));
    await b.close();
    await closeDb();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((e: unknown) => {
  console.error(isEddyError(e) ? e.message : e);
  process.exit(1);
});
