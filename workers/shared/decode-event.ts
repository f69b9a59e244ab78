import type { BusMessage } from '@/lib/bus';
import { eventRecordSchema, type EventRecord } from '@/lib/events/record';
import { parseStorableJson } from '@/lib/events/storable';
import { deadLetter, ok, type Outcome } from '../consumer/outcome';

/** An events-topic record, or why it cannot be read (the runtime dead-letters it with its bytes). */
export function decodeEvent(message: BusMessage): Outcome<EventRecord> {
  if (!message.value) return deadLetter('empty value');
  let json: unknown;
  try {
    // Storable before anything else: a record produced before collect normalised its strings (or
    // by another producer) must not carry a NUL or a lone surrogate into PostgreSQL.
    json = parseStorableJson(message.value.toString('utf8'));
  } catch {
    return deadLetter('value is not JSON');
  }
  const parsed = eventRecordSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return deadLetter(`not an event record: ${i.path.join('.') || 'value'}: ${i.message}`);
  }
  return ok(parsed.data);
}
