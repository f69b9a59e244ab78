import { webcrypto } from 'node:crypto';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { uuid } from './src/uuid';

// The collect endpoint validates `i` with z.uuid(); both paths must produce what it accepts.
const isUuid = (s: string) => z.uuid().safeParse(s).success;

describe('event ids', () => {
  it('crypto.randomUUID is used when the context provides it', () => {
    expect(isUuid(uuid(webcrypto as Crypto))).toBe(true);
    // Only the context's randomUUID can produce this one (the fallback would make a random v4).
    const marker = '00000000-0000-4000-8000-00000000abcd';
    const secure = {
      randomUUID: () => marker,
      getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
    } as unknown as Crypto;
    expect(uuid(secure)).toBe(marker);
  });

  it('without randomUUID (plain-http pages) getRandomValues gives valid, distinct version 4 UUIDs', () => {
    const insecure = { getRandomValues: webcrypto.getRandomValues.bind(webcrypto) } as unknown as Crypto;
    const ids = Array.from({ length: 2000 }, () => uuid(insecure));
    for (const id of ids) {
      expect(isUuid(id), id).toBe(true);
      expect(id[14]).toBe('4');
      expect('89ab').toContain(id[19]);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
