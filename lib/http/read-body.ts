import { gunzipSync, inflateSync } from 'node:zlib';
import { EddyError } from '../errors';

/**
 * Reads a request body as UTF-8, refusing more than `maxBytes` before buffering it all.
 * gzip/deflate bodies are accepted and their decompressed size is capped too (no zip bombs).
 */
export async function readBodyCapped(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
  const encoding = (req.headers.get('content-encoding') ?? 'identity').toLowerCase();
  if (!['identity', 'gzip', 'deflate'].includes(encoding)) throw new EddyError('unsupported_media_type', `Content-Encoding ${encoding} is not supported`);
  let raw = Buffer.alloc(0);
  if (req.body) {
    const reader = req.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
    raw = Buffer.concat(chunks);
  }
  return decodeBody(raw, encoding, maxBytes);
}

/** Decompresses (gzip/deflate, capped at `maxBytes` decompressed) and decodes strict UTF-8. */
export function decodeBody(raw: Buffer, encoding: string, maxBytes: number): string {
  if (encoding !== 'identity') {
    try {
      raw = encoding === 'gzip' ? gunzipSync(raw, { maxOutputLength: maxBytes }) : inflateSync(raw, { maxOutputLength: maxBytes });
    } catch (e) {
      if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new EddyError('payload_too_large', `Decompressed body over ${maxBytes} bytes`);
      throw new EddyError('bad_request', `Body is not valid ${encoding}`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new EddyError('bad_request', 'Body is not valid UTF-8');
  }
}
