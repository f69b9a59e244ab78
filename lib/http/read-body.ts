import { gunzipSync, inflateSync } from 'node:zlib';
import { EddyError } from '../errors';

/** A request body as any transport has it: the two headers that bound it, and its bytes as they arrive. */
export interface BodySource {
  contentLength: string | null | undefined;
  contentEncoding: string | null | undefined;
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Reads a request body as UTF-8, refusing more than `maxBytes` before buffering it all.
 * gzip/deflate bodies are accepted and their decompressed size is capped too (no zip bombs).
 */
export async function readBodyCapped(req: Request, maxBytes: number): Promise<string> {
  return readSourceCapped(requestBody(req), maxBytes);
}

/** The body reader every transport shares (fetch Requests above, node:http in lib/collect/node-handler.ts). */
export async function readSourceCapped(source: BodySource, maxBytes: number): Promise<string> {
  const declared = Number(source.contentLength ?? '0');
  if (declared > maxBytes) throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
  const encoding = (source.contentEncoding ?? 'identity').toLowerCase();
  if (!['identity', 'gzip', 'deflate'].includes(encoding))
    throw new EddyError('unsupported_media_type', `Content-Encoding ${encoding} is not supported`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early (the throw) ends the iterator, which cancels the rest of the upload.
  for await (const chunk of source.chunks) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return decodeBody(Buffer.concat(chunks), encoding, maxBytes);
}

export function requestBody(req: Request): BodySource {
  return {
    contentLength: req.headers.get('content-length'),
    contentEncoding: req.headers.get('content-encoding'),
    chunks: streamChunks(req.body),
  };
}

async function* streamChunks(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      yield next.value;
    }
    done = true;
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
  }
}

/** Decompresses (gzip/deflate, capped at `maxBytes` decompressed) and decodes strict UTF-8. */
export function decodeBody(raw: Buffer, encoding: string, maxBytes: number): string {
  if (encoding !== 'identity') {
    try {
      raw =
        encoding === 'gzip'
          ? gunzipSync(raw, { maxOutputLength: maxBytes })
          : inflateSync(raw, { maxOutputLength: maxBytes });
    } catch (e) {
      if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
        throw new EddyError('payload_too_large', `Decompressed body over ${maxBytes} bytes`);
      throw new EddyError('bad_request', `Body is not valid ${encoding}`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new EddyError('bad_request', 'Body is not valid UTF-8');
  }
}
