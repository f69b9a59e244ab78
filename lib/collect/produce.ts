import { bus, topics } from '../bus';
import { EddyError } from '../errors';
import { eventKey, type EventRecord } from '../events/record';

/**
 * Produces records and resolves once the bus acknowledged all of them. Past the deadline the
 * caller answers 503 + Retry-After and the tracker retries with the same event ids; if the
 * late send does land after all, the workers' event-id dedup keeps the count exact.
 */
export async function produceEvents(records: EventRecord[], deadlineMs: number): Promise<void> {
  if (records.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EddyError('unavailable', 'Event bus did not acknowledge in time', { retryAfter: 2 })),
      deadlineMs,
    );
  });
  try {
    await Promise.race([
      bus()
        .producer()
        .send(
          topics.events,
          records.map((r) => ({ key: eventKey(r), value: JSON.stringify(r), timestamp: r.ts })),
        ),
      deadline,
    ]);
  } catch (e) {
    if (e instanceof EddyError) throw e;
    console.error(`[collect] bus send failed: ${(e as Error).message}`);
    throw new EddyError('unavailable', 'Event bus unavailable', { cause: e, retryAfter: 2 });
  } finally {
    clearTimeout(timer);
  }
}
