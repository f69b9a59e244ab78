import { HyperLogLog, type HyperLogLogJson, type Json } from '../stream';

// Unions of many visitor sketches read from rollup rows. Equivalent to
// visitors.ts's mergeVisitorSketches (register-wise maximum), but decodes each stored sketch
// straight into one register array instead of building a HyperLogLog object per row: a 30-day
// dashboard merges hundreds of dense 16 KiB sketches per request.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function isSketch(v: unknown): v is HyperLogLogJson {
  return typeof v === 'object' && v !== null && typeof (v as { p?: unknown }).p === 'number';
}

export class VisitorUnion {
  private registers: Uint8Array | null = null;
  private precision = 0;
  private empty = true;

  add(sketch: unknown): this {
    if (!isSketch(sketch)) return this;
    const p = sketch.p;
    if (this.registers === null) {
      this.precision = p;
      this.registers = new Uint8Array(1 << p);
    } else if (p !== this.precision) {
      throw new RangeError(`cannot merge visitor sketches of precision ${p} and ${this.precision}`);
    }
    const r = this.registers;
    if ('dense' in sketch && typeof sketch.dense === 'string') {
      const s = sketch.dense;
      const n = Math.min(s.length, r.length);
      for (let i = 0; i < n; i++) {
        const v = DECODE[s.charCodeAt(i) & 127]!;
        if (v > r[i]!) r[i] = v;
      }
    } else if ('sparse' in sketch && Array.isArray(sketch.sparse)) {
      for (const e of sketch.sparse) {
        const i = e >>> 6;
        const v = e & 63;
        if (i < r.length && v > r[i]!) r[i] = v;
      }
    }
    this.empty = false;
    return this;
  }

  merge(other: VisitorUnion): this {
    if (other.registers === null) return this;
    if (this.registers === null) {
      this.precision = other.precision;
      this.registers = other.registers.slice();
    } else {
      const r = this.registers;
      const o = other.registers;
      for (let i = 0; i < r.length; i++) if (o[i]! > r[i]!) r[i] = o[i]!;
    }
    this.empty = false;
    return this;
  }

  /** The estimate, computed by the stream library's HyperLogLog (one estimator everywhere). */
  estimate(): number {
    if (this.empty || this.registers === null) return 0;
    const r = this.registers;
    let nonZero = 0;
    for (let i = 0; i < r.length; i++) if (r[i] !== 0) nonZero++;
    let json: HyperLogLogJson;
    if (nonZero <= r.length >>> 3) {
      const sparse: number[] = [];
      for (let i = 0; i < r.length; i++) if (r[i] !== 0) sparse.push((i << 6) | r[i]!);
      json = { p: this.precision, sparse };
    } else {
      let dense = '';
      for (let i = 0; i < r.length; i++) dense += ALPHABET[r[i]!];
      json = { p: this.precision, dense };
    }
    return HyperLogLog.fromJSON(json as unknown as Json).estimate();
  }
}
