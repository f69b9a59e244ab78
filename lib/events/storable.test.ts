import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStorableJson, storable, storableText } from './storable';

// PostgreSQL `text` refuses U+0000 and `jsonb` also refuses lone surrogates; what storable()
// returns must be accepted by both (checked against the real server in the integration tests).

const storableInJsonb = (s: string) =>
  s.isWellFormed() && !s.includes('\u0000') && !JSON.stringify(s).includes('\\u0000');

describe('storable', () => {
  it('replaces NUL and lone surrogates with U+FFFD and keeps everything else, emoji pairs included', () => {
    expect(storableText('a\u0000b')).toBe('a\ufffdb');
    expect(storableText('\ud800x\udc00')).toBe('\ufffdx\ufffd');
    expect(storableText('😀 \u202e rtl')).toBe('😀 \u202e rtl');
    // A tracker that cuts an emoji in half keeps the half it can: one replacement character.
    expect(storableText('ok😀'.slice(0, 3))).toBe('ok\ufffd');
  });

  it('makes any string storable and is the identity on strings that already were', { timeout: 30_000 }, () => {
    // UTF-16 code units, with NUL and surrogate halves over-represented.
    const unit = fc.oneof(
      fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', 'a'),
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    );
    fc.assert(
      fc.property(fc.string({ unit }), (s) => {
        const out = storableText(s);
        expect(storableInJsonb(out)).toBe(true);
        if (storableInJsonb(s)) expect(out).toBe(s);
        expect(out.length).toBe(s.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('reaches keys and values at any depth of a JSON value', () => {
    expect(storable({ 'k\u0000': ['\ud800', { x: 'a\u0000' }], n: 1, b: true, z: null })).toEqual({
      'k\ufffd': ['\ufffd', { x: 'a\ufffd' }],
      n: 1,
      b: true,
      z: null,
    });
  });

  it('keeps properties named __proto__ and constructor as plain properties', () => {
    const parsed = JSON.parse('{"__proto__":"x","constructor":{"a":1}}') as object;
    const out = storable(parsed);
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":"x","constructor":{"a":1}}');
  });

  it(
    'parseStorableJson equals storable(JSON.parse(text)) for any JSON text, and skips the copy only when no string can need it',
    { timeout: 30_000 },
    () => {
      const unit = fc.oneof(
        fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\\', 'u', 'a'),
        fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      );
      const text = fc.string({ unit });
      const value = fc.letrec((tie) => ({
        v: fc.oneof(
          { depthSize: 'small' },
          text,
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
          fc.array(tie('v'), { maxLength: 4 }),
          fc.dictionary(text, tie('v'), { maxKeys: 4 }),
        ),
      })).v;
      fc.assert(
        fc.property(value, (v) => {
          const json = JSON.stringify(v);
          expect(parseStorableJson(json)).toEqual(storable(JSON.parse(json) as unknown));
        }),
        { numRuns: 1000 },
      );
      // Escapes in either case, raw lone surrogates in the text itself, and a false alarm.
      expect(parseStorableJson('{"a\\u0000":"\\uD800x"}')).toEqual({ 'a\ufffd': '\ufffdx' });
      expect(parseStorableJson('["\ud800"]')).toEqual(['\ufffd']);
      expect(parseStorableJson('"\\\\u0000"')).toBe('\\u0000');
      // Nothing to fix (a \u00e9 escape is not one of them): the value as parsed.
      const plain = '{"url":"https://s.test/\\u00e9","props":{"plan":"pro"}}';
      expect(parseStorableJson(plain)).toEqual(JSON.parse(plain));
    },
  );
});
