import type pg from 'pg';
import type { EventRecord } from '@/lib/events/record';
import type { Queryable } from '@/lib/db/client';
import { eventDimensionValues, type ValueKind } from '@/lib/analytics/dimension-registry';

export type { ValueKind };

// The dictionary of dimension values (owner of `dimension_values`): one integer per distinct
// (site, kind, string), so the fact tables the filtered dashboard reads (event_facts, visit_facts)
// hold narrow integer columns and group by integers. Both the rollups and the sessions job encode
// through it. Rows are only ever added, and a value stands for itself whatever batch added it.
//
// So new values are inserted in a statement of their own (autocommitted on the pool, sorted),
// not in the job's batch transaction: an uncommitted insert of a value makes every other
// transaction inserting the same value wait for it (ON CONFLICT waits for the outcome), and a
// worker frozen or slow inside its batch then stalled every partition of every worker that met
// a value it had just seen (the fault suite's F3 zombie held the whole group that way). A batch
// that rolls back leaves its new values in the dictionary: harmless, they name real values.
// Ids are still cached only after the job's commit (`commit()` from its after-commit hook).

/** Cached ids per process; a bound keeps a process with many sites from growing without limit. */
const MAX_CACHED = 500_000;

export class ValueDictionary {
  private readonly cache = new Map<string, number>();

  /** `db`: where new values are added, outside the caller's transaction (the job's pool). */
  constructor(private readonly db: Queryable) {}

  /** Resolves every (site, kind, value) to its id, adding the ones not stored yet. Returns ids keyed by `key()`, and the newly learnt ones to commit. */
  async resolve(
    tx: pg.PoolClient,
    wanted: Iterable<[string, ValueKind, string]>,
  ): Promise<{ ids: Map<string, number>; learnt: Map<string, number> }> {
    const ids = new Map<string, number>();
    const missing = new Map<string, [string, ValueKind, string]>();
    for (const w of wanted) {
      const k = key(w[0], w[1], w[2]);
      if (ids.has(k) || missing.has(k)) continue;
      const id = this.cache.get(k);
      if (id !== undefined) ids.set(k, id);
      else missing.set(k, w);
    }
    const learnt = new Map<string, number>();
    if (missing.size === 0) return { ids, learnt };
    const list = [...missing.values()].sort((a, b) => (key(...a) < key(...b) ? -1 : 1));
    const cols = [list.map((w) => w[0]), list.map((w) => w[1]), list.map((w) => w[2])];
    // Look up first: inserting values that exist would burn ids of the sequence on every conflict.
    const found = await tx.query<{ site_id: string; dimension: ValueKind; value: string; id: number }>(
      `SELECT d.site_id, d.dimension, d.value, d.id FROM dimension_values d
         JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS u(site, dim, value) ON d.site_id = u.site AND d.dimension = u.dim AND d.value = u.value`,
      cols,
    );
    for (const r of found.rows) {
      const k = key(r.site_id, r.dimension, r.value);
      ids.set(k, r.id);
      learnt.set(k, r.id);
      missing.delete(k);
    }
    if (missing.size) {
      const rest = [...missing.values()].sort((a, b) => (key(...a) < key(...b) ? -1 : 1));
      const restCols = [rest.map((w) => w[0]), rest.map((w) => w[1]), rest.map((w) => w[2])];
      await this.db.query(
        `INSERT INTO dimension_values (site_id, dimension, value) SELECT u.site, u.dim, u.value FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY AS u(site, dim, value, n)
          ORDER BY u.n ON CONFLICT (site_id, dimension, value) DO NOTHING`,
        restCols,
      );
      // Committed now, ours or a concurrent insert's: the transaction's next statement sees them.
      const added = await tx.query<{ site_id: string; dimension: ValueKind; value: string; id: number }>(
        `SELECT d.site_id, d.dimension, d.value, d.id FROM dimension_values d
           JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS u(site, dim, value) ON d.site_id = u.site AND d.dimension = u.dim AND d.value = u.value`,
        restCols,
      );
      for (const r of added.rows) {
        const k = key(r.site_id, r.dimension, r.value);
        ids.set(k, r.id);
        learnt.set(k, r.id);
      }
    }
    return { ids, learnt };
  }

  /** After commit: the ids learnt in that transaction exist for good. */
  commit(learnt: Map<string, number>): void {
    if (this.cache.size + learnt.size > MAX_CACHED) this.cache.clear();
    for (const [k, id] of learnt) this.cache.set(k, id);
  }
}

export const key = (siteId: string, kind: ValueKind, value: string) => `${siteId}\u0000${kind}\u0000${value}`;

/** An event's own values per event dimension, as its kind (lib/analytics/dimension-registry.ts: as the rollups derive them). */
export function eventValues(e: EventRecord): [ValueKind, string | null][] {
  return eventDimensionValues(e).map(([d, v]) => [d.kind, v]);
}

/** 0 pageview, 1 engagement, 2 custom event (event_facts.kind). */
export const eventKind = (name: string) => (name === 'pageview' ? 0 : name === 'engagement' ? 1 : 2);
