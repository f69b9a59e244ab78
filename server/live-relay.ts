import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Server } from 'socket.io';
import type { Bus, BusConsumer } from '@/lib/bus';
import { topics } from '@/lib/bus';
import { liveRoom, minuteCountSchema } from '@/lib/live/publish';

// Every web server instance reads the whole `live` topic (its own consumer group, from the
// latest offset: the past is served from PostgreSQL) and emits each update to the site's room.

export async function startLiveRelay(io: Server, b: Bus): Promise<BusConsumer> {
  const consumer = b.consumer({ groupId: `live-relay-${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`, topics: [topics.live], fromBeginning: false });
  await consumer.run(async (batch) => {
    for (const m of batch.messages) {
      const parsed = m.value ? minuteCountSchema.safeParse(JSON.parse(m.value.toString('utf8'))) : null;
      if (parsed?.success) io.to(liveRoom(parsed.data.siteId)).emit('minute', parsed.data);
    }
    batch.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  });
  return consumer;
}
