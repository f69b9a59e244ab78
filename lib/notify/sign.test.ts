import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from './sign';

describe('webhook signatures', () => {
  const body = JSON.stringify({ type: 'alert.firing' });
  it('a receiver with the same secret verifies the signature', () => {
    const now = 1_800_000_000_000;
    const ts = now / 1000;
    expect(
      verifySignature('s3cret-s3cret-s3cret', String(ts), body, signPayload('s3cret-s3cret-s3cret', ts, body), now),
    ).toBe(true);
  });
  it('a changed body, another secret or an old timestamp fails', () => {
    const now = 1_800_000_000_000;
    const ts = now / 1000;
    const sig = signPayload('s3cret-s3cret-s3cret', ts, body);
    expect(verifySignature('s3cret-s3cret-s3cret', String(ts), `${body} `, sig, now)).toBe(false);
    expect(verifySignature('other-other-other-other', String(ts), body, sig, now)).toBe(false);
    expect(verifySignature('s3cret-s3cret-s3cret', String(ts), body, sig, now + 600_000)).toBe(false);
  });
});
