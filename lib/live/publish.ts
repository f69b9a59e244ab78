import { z } from 'zod';
import { topics, type Bus } from '../bus';

// Messages on the `live` topic: what a worker tells every web server to push to a site's room.

export const minuteCountSchema = z.object({
  type: z.literal('minute'),
  siteId: z.string(),
  minute: z.number().int(),
  pageviews: z.number().int(),
  events: z.number().int(),
});
export type MinuteCount = Omit<z.infer<typeof minuteCountSchema>, 'type'>;
export type LiveMessage = z.infer<typeof minuteCountSchema>;

export async function publishMinuteCounts(b: Bus, counts: MinuteCount[]): Promise<void> {
  if (counts.length === 0) return;
  await b.producer().send(
    topics.live,
    counts.map((c) => ({ key: c.siteId, value: JSON.stringify({ type: 'minute', ...c } satisfies LiveMessage) })),
  );
}

export function liveRoom(siteId: string): string {
  return `site:${siteId}`;
}
