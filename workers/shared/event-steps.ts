import type { EventRecord } from '@/lib/events/record';
import { withoutDeletedSites } from '@/lib/sites/site-data';
import { drop, ok } from '../consumer/outcome';
import type { Ready, RecordStep } from '../consumer/steps';
import { claimEventIds } from './event-ids';

// The steps every events-topic job runs before its apply (workers/consumer/steps.ts).

/** A deleted site's records still in the bus are dropped, not archived or counted (lib/sites/site-data.ts). */
export const dropDeletedSites: RecordStep<EventRecord> = {
  name: 'deleted-sites',
  async judge(tx, records) {
    const kept = new Set(await withoutDeletedSites(tx, records));
    return records.map((r) => (kept.has(r) ? ok(r.record) : drop('deleted-site', r.record.siteId)));
  },
};

/**
 * Re-sends and replays are harmless: an event id this job applied before is a duplicate.
 * `needsClaim` (evaluated once per record) names the records the job's output can depend on; the
 * rest pass without an `event_ids` row — a job that only notes their event time (funnels, for a
 * site without funnels: most sites) has nothing to count twice, and claiming them was a row per
 * event per such job, written and indexed for nothing.
 */
export const dropDuplicates = (
  job: string,
  needsClaim?: (record: EventRecord) => boolean,
): RecordStep<EventRecord> => ({
  name: 'event-ids',
  async judge(tx, records) {
    const unclaimed = new Set<Ready<EventRecord>>(needsClaim ? records.filter((r) => !needsClaim(r.record)) : []);
    const claimable = unclaimed.size ? records.filter((r) => !unclaimed.has(r)) : records;
    const fresh = new Set<Ready<EventRecord>>(await claimEventIds(tx, job, claimable));
    return records.map((r) => (fresh.has(r) || unclaimed.has(r) ? ok(r.record) : drop('duplicate', r.record.siteId)));
  },
});

/**
 * Before apply reads a site's time zone, gap and content groups: a site the workers' dimension
 * table does not know yet (created since its last refresh) is loaded now (SiteDimensionTable.ensureKnown).
 */
export const knownSites = (dims: { ensureKnown(siteIds: string[]): Promise<void> }): RecordStep<EventRecord> => ({
  name: 'known-sites',
  async judge(_tx, records) {
    await dims.ensureKnown([...new Set(records.map((r) => r.record.siteId))]);
    return records.map((r) => ok(r.record));
  },
});

export const eventSteps = (
  job: string,
  dims: { ensureKnown?(siteIds: string[]): Promise<void> },
  needsClaim?: (record: EventRecord) => boolean,
): RecordStep<EventRecord>[] => [
  dropDeletedSites,
  ...(dims.ensureKnown ? [knownSites(dims as { ensureKnown(siteIds: string[]): Promise<void> })] : []),
  dropDuplicates(job, needsClaim),
];
