import { EddyError } from '../errors';

/** Reads a request body as UTF-8, refusing more than `maxBytes` before buffering it all. */
export async function readBodyCapped(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
  const encoding = req.headers.get('content-encoding');
  if (encoding && encoding !== 'identity') throw new EddyError('unsupported_media_type', `Content-Encoding ${encoding} is not supported`);
  if (!req.body) return '';
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
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new EddyError('bad_request', 'Body is not valid UTF-8');
  }
}
