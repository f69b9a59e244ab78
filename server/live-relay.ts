import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Server } from 'socket.io';
import type { Bus, BusConsumer } from '@/lib/bus';
import { groupId, topics } from '@/lib/bus';
import { liveRoom, minuteCountSchema } from '@/lib/live/publish';

// Every web server instance reads the whole `live` topic (its own consumer group, from the
// latest offset: the past is served from PostgreSQL) and emits each update to the site's room.

/** Starts the relay, retrying in the background while the bus is unreachable: pages and collect keep serving meanwhile. */
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
  const consumer = b.consumer({ groupId: groupId(`live-relay-${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`), topics: [topics.live], fromBeginning: false });
  await consumer.run(async (batch) => {
    for (const m of batch.messages) {
      const parsed = m.value ? minuteCountSchema.safeParse(JSON.parse(m.value.toString('utf8'))) : null;
      if (parsed?.success) io.to(liveRoom(parsed.data.siteId)).emit('minute', parsed.data);
    }
    batch.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  });
  return consumer;
}
