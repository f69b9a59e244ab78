import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Server } from 'socket.io';
import type { Bus, BusConsumer } from '@/lib/bus';
import { groupId, topics } from '@/lib/bus';
import { liveRoom, siteChangedSchema } from '@/lib/live/publish';
import { liveSnapshot } from '@/lib/live/snapshot';
import { pushInterval } from '@/lib/live/push-pace';
import { pool } from '@/lib/db/client';
import { notifyMessageSchema } from '@/lib/notify/in-app';
import { PushFreshness } from '@/lib/sla/push-samples';
import { siteFreshnessMany } from '@/lib/sla/current';

// Every web process reads the whole `live` topic (its own consumer group, from the latest offset)
// and pushes a fresh snapshot to the rooms of changed sites — only for sites someone is watching,
// and at most one per site per interval: 100–250 ms, paced by what the site's snapshot costs
// (lib/live/push-pace.ts).
// A stopped pipeline sends no notices, so "how far behind" is pushed on its own clock: every
// watched site's latest freshness measurement, as often as the alerts job measures.
export const FRESHNESS_PUSH_MS = 2000;
/**
 * The live numbers are windows that end now (current visitors: the last 5 minutes; the header's
 * last 30 minutes): with no event they still age, so an open dashboard gets a fresh snapshot at
 * least this often. Pushed only on events, a tab kept "3 current visitors" with a green dot
 * long after the traffic stopped, while a tab opened then read 0.
 */
export const IDLE_REPUSH_MS = 15_000;

/** Watched sites whose last snapshot is older than IDLE_REPUSH_MS (or that never had one). */
export function sitesToRepush(watched: string[], lastPush: ReadonlyMap<string, number>, now: number): string[] {
  return watched.filter((siteId) => now - (lastPush.get(siteId) ?? -Infinity) >= IDLE_REPUSH_MS);
}

export function startLiveRelayWhenReady(io: Server, b: Bus, onCrash: (e: Error) => void): void {
  const attempt = () => {
    startLiveRelay(io, b)
      .then((c) => void c.crashed.then(onCrash))
      .catch((e: unknown) => {
        console.error(`[web] live relay cannot start yet (${(e as Error).message}); retrying in 2 s`);
        setTimeout(attempt, 2000);
      });
  };
  attempt();
}

export async function startLiveRelay(io: Server, b: Bus): Promise<BusConsumer> {
  const lastPush = new Map<string, number>();
  const snapshotMs = new Map<string, number>();
  const scheduled = new Set<string>();
  const freshness = new PushFreshness(pool);
  const push = async (siteId: string) => {
    scheduled.delete(siteId);
    lastPush.set(siteId, Date.now());
    try {
      const started = performance.now();
      const snapshot = await liveSnapshot(siteId, Date.now());
      snapshotMs.set(siteId, performance.now() - started);
      io.to(liveRoom(siteId)).emit('live', snapshot);
      freshness.record(snapshot, Date.now());
    } catch (e) {
      console.error(`[web] live snapshot for ${siteId} failed: ${(e as Error).message}`);
    }
  };
  const notify = (siteId: string) => {
    if (scheduled.has(siteId) || (io.sockets.adapter.rooms.get(liveRoom(siteId))?.size ?? 0) === 0) return;
    const wait = Math.max(0, (lastPush.get(siteId) ?? 0) + pushInterval(snapshotMs.get(siteId)) - Date.now());
    scheduled.add(siteId);
    setTimeout(() => void push(siteId), wait);
  };
  const freshnessTimer = setInterval(() => {
    const watched = [...io.sockets.adapter.rooms.keys()]
      .filter((r) => r.startsWith('site:'))
      .map((r) => r.slice('site:'.length));
    if (watched.length === 0) return;
    for (const siteId of sitesToRepush(watched, lastPush, Date.now())) notify(siteId);
    siteFreshnessMany(watched)
      .then((all) => {
        for (const [siteId, f] of all) io.to(liveRoom(siteId)).emit('freshness', { siteId, ...f });
      })
      .catch((e: unknown) => console.error(`[web] freshness push failed: ${(e as Error).message}`));
  }, FRESHNESS_PUSH_MS);
  freshnessTimer.unref();
  const consumer = b.consumer({
    groupId: groupId(`live-relay-${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`),
    topics: [topics.live],
    fromBeginning: false,
  });
  await consumer.run(async (batch) => {
    for (const m of batch.messages) {
      try {
        const parsed = siteChangedSchema.safeParse(JSON.parse(m.value?.toString('utf8') ?? 'null'));
        if (parsed.success) notify(parsed.data.siteId);
        else pushNotifications(io, m.value?.toString('utf8'));
      } catch {
        // not ours to fail on: a notice we cannot read only delays an update
      }
    }
    batch.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  });
  void consumer.crashed.then(() => clearInterval(freshnessTimer));
  return consumer;
}

// In-app notifications (lib/notify/in-app.ts) go to the named users' open sockets.
function pushNotifications(io: Server, raw: string | undefined): void {
  const parsed = notifyMessageSchema.safeParse(JSON.parse(raw ?? 'null'));
  if (!parsed.success) return;
  for (const socket of io.of('/').sockets.values()) {
    const viewer = socket.data.viewer as { kind: string; userId?: string } | undefined;
    if (viewer?.kind !== 'user') continue;
    for (const n of parsed.data.notifications) if (n.userId === viewer.userId) socket.emit('notification', n);
  }
}
