import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  newPasswordSchema,
  PASSWORD_MAX_BYTES,
  passwordHashNeedsUpgrade,
  verifyPassword,
} from './password';

describe('passwords', () => {
  it('new hashes are argon2id and verify only their own password', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', h)).toBe(false);
    expect(passwordHashNeedsUpgrade(h, 'correct horse battery staple')).toBe(false);
  });

  it('every byte counts: passwords equal in their first 72 bytes are different passwords', async () => {
    const base = 'p'.repeat(72);
    const h = await hashPassword(`${base}X`);
    expect(await verifyPassword(`${base}X`, h)).toBe(true);
    expect(await verifyPassword(`${base}Y`, h)).toBe(false);
  });

  it(`new passwords may be up to ${PASSWORD_MAX_BYTES} bytes of UTF-8, no more`, async () => {
    const schema = newPasswordSchema();
    expect(schema.safeParse('é'.repeat(PASSWORD_MAX_BYTES / 2)).success).toBe(true);
    expect(schema.safeParse(`${'é'.repeat(PASSWORD_MAX_BYTES / 2)}x`).success).toBe(false);
    expect(schema.safeParse('p'.repeat(100)).success).toBe(true); // past bcrypt's old 72
    await expect(hashPassword('p'.repeat(PASSWORD_MAX_BYTES + 1))).rejects.toThrow(/at most 1024 bytes/);
  });

  it('bcrypt hashes from before still verify and ask to be upgraded (unless the password is past the 72 bytes bcrypt checked)', async () => {
    const legacy = await bcrypt.hash('an old password', 4);
    expect(await verifyPassword('an old password', legacy)).toBe(true);
    expect(await verifyPassword('an old passwore', legacy)).toBe(false);
    expect(passwordHashNeedsUpgrade(legacy, 'an old password')).toBe(true);
    expect(passwordHashNeedsUpgrade(legacy, 'p'.repeat(73))).toBe(false);
  });

  it('no hash, or a malformed one, is a wrong password', async () => {
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(await verifyPassword('anything', '$argon2id$garbage')).toBe(false);
  });

  it('hashes and verifies off the main thread: the event loop stays mostly idle meanwhile', async () => {
    await hashPassword('warm-up'); // the thread pool and the module's first call
    const before = performance.eventLoopUtilization();
    const hashes = [];
    for (let i = 0; i < 4; i++) hashes.push(await hashPassword(`password ${i}`));
    for (let i = 0; i < 4; i++) expect(await verifyPassword(`password ${i}`, hashes[i])).toBe(true);
    const { utilization } = performance.eventLoopUtilization(before);
    // bcrypt (pure JS, even its async API) keeps the loop busy for the whole hash: utilization ≈ 1.
    expect(utilization).toBeLessThan(0.5);
  });
});
