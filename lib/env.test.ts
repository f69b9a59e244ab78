import { describe, expect, it } from 'vitest';
import { parseEnv } from './env';

describe('parseEnv', () => {
  it('uses defaults for unset settings', () => {
    const e = parseEnv({});
    expect(e.PORT).toBe(3000);
    expect(e.DATABASE_URL).toBeUndefined();
    expect(e.KAFKA_VERSION).toBe('4.4.0');
  });

  it('treats an empty string as unset', () => {
    const e = parseEnv({ PORT: '', DATABASE_URL: '  ', KAFKA_BROKERS: '' });
    expect(e.PORT).toBe(3000);
    expect(e.DATABASE_URL).toBeUndefined();
    expect(e.KAFKA_BROKERS).toBeUndefined();
  });

  it('parses a broker list into an array', () => {
    expect(parseEnv({ KAFKA_BROKERS: 'a:9092,b.example:9093' }).KAFKA_BROKERS).toEqual(['a:9092', 'b.example:9093']);
  });

  it('stops with one line naming the variable and the value when a setting is wrong', () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/^Invalid setting PORT: .*\(got "eighty"\)$/);
    expect(() => parseEnv({ DATABASE_URL: 'mysql://x' })).toThrow(
      /^Invalid setting DATABASE_URL: must be a postgres:\/\/ URL/,
    );
    expect(() => parseEnv({ KAFKA_BROKERS: 'localhost' })).toThrow(/^Invalid setting KAFKA_BROKERS/);
    expect(() => parseEnv({ AUTH_SECRET: 'short' })).toThrow(
      /^Invalid setting AUTH_SECRET: must be at least 32 characters/,
    );
  });
});
