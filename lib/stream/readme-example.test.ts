// The worker loop from README.md, run against an in-memory "database": one transaction per batch
// holds the sink rows, the late records and the checkpoint. Keep it in step with the README.

import { describe, expect, it } from 'vitest';
import {
  composite,
  count,
  distinctCount,
  sessionWindows,
  slidingWindows,
  sum,
  windowOperator,
  type OperatorSnapshot,
  type WindowAssigner,
} from './index';

interface PageView {
  siteId: string;
  visitorId: string;
  ts: number;
  engagedMs: number;
}

const pageStats = composite({
  pageviews: count(),
  visitors: distinctCount((e: PageView) => e.visitorId),
  engagedMs: sum((e: PageView) => e.engagedMs),
});
type PageStats = ReturnType<typeof pageStats.result>;

interface Database {
  rows: Map<string, PageStats>;
  late: PageView[];
  checkpoint: { nextOffset: number; watermark: number; operator: OperatorSnapshot } | null;
}

function worker(assigner: WindowAssigner, db: Database, now: () => number) {
  const op = windowOperator(assigner, pageStats, {
    outOfOrdernessMs: 2000,
    allowedLatenessMs: 5000,
    idleTimeoutMs: 10_000,
    clock: now,
  });
  if (db.checkpoint !== null) op.restore(JSON.parse(JSON.stringify(db.checkpoint.operator)));
  op.addPartition(0);
  return {
    resumeAt: db.checkpoint?.nextOffset ?? 0,
    handleBatch(views: PageView[], nextOffset: number) {
      for (const v of views) op.process(0, v.siteId, v.ts, v);
      const { results, late, watermark } = op.advanceWatermark();
      // One "transaction": build the new state and swap it in whole.
      const rows = new Map(db.rows);
      for (const r of results) {
        for (const old of r.retracts) rows.delete(`${r.key}|${old.start}|${old.end}`);
        rows.set(`${r.key}|${r.windowStart}|${r.windowEnd}`, r.value);
      }
      db.rows = rows;
      db.late = [...db.late, ...late.map((e) => e.value)];
      db.checkpoint = { nextOffset, watermark, operator: op.snapshot() };
    },
  };
}

function traffic(n: number): PageView[] {
  const views: PageView[] = [];
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < n; i++) {
    const ts = i * 400 - Math.floor(random() * (random() < 0.05 ? 20_000 : 1500));
    views.push({
      siteId: `site-${i % 3}`,
      visitorId: `v${Math.floor(random() * 40)}`,
      ts,
      engagedMs: Math.floor(random() * 5000),
    });
  }
  return views;
}

function runLog(assigner: WindowAssigner, log: PageView[], crashAfterBatch?: number): Database {
  const db: Database = { rows: new Map(), late: [], checkpoint: null };
  let clock = 0;
  let current = worker(assigner, db, () => clock);
  for (let offset = current.resumeAt, batch = 0; offset < log.length; batch++) {
    const end = Math.min(offset + 25, log.length);
    clock += 1000;
    current.handleBatch(log.slice(offset, end), end);
    offset = end;
    if (batch === crashAfterBatch) {
      current = worker(assigner, db, () => clock); // a new process restores from the checkpoint
      offset = current.resumeAt;
    }
  }
  return db;
}

describe('the README worker loop', () => {
  for (const assigner of [slidingWindows(60_000, 10_000), sessionWindows(3000)]) {
    it(`a worker that crashes and restores from its checkpoint ends with the same rows and late records (${assigner.kind})`, () => {
      const log = traffic(600);
      const uninterrupted = runLog(assigner, log);
      const crashed = runLog(assigner, log, 7);
      expect(uninterrupted.rows.size).toBeGreaterThan(0);
      expect(crashed.rows).toEqual(uninterrupted.rows);
      expect(crashed.late).toEqual(uninterrupted.late);
    });
  }
});
