/** gzip, zstd and xz by their magic bytes, in-process (no external tools). */
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { decompress as zstdDecompress } from 'fzstd';
import { InputError } from './errors.js';

const require = createRequire(import.meta.url);

export type Compression = 'gzip' | 'zstd' | 'xz' | 'none';

export function detectCompression(data: Uint8Array): Compression {
  if (data[0] === 0x1f && data[1] === 0x8b) return 'gzip';
  if (data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd) return 'zstd';
  if (data[0] === 0xfd && data[1] === 0x37 && data[2] === 0x7a && data[3] === 0x58 && data[4] === 0x5a && data[5] === 0x00) return 'xz';
  return 'none';
}

/** Decompresses one buffer; `what` names it in errors ("repodata/…-primary.xml.zst"). */
export async function decompress(data: Uint8Array, what: string): Promise<Buffer> {
  const kind = detectCompression(data);
  try {
    switch (kind) {
      case 'gzip':
        return gunzipSync(data);
      case 'zstd':
        return Buffer.from(zstdDecompress(data));
      case 'xz': {
        const { XzReadableStream } = require('xz-decompress') as { XzReadableStream: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array> };
        const stream = new XzReadableStream(new Blob([new Uint8Array(data)]).stream());
        return Buffer.from(await new Response(stream).arrayBuffer());
      }
      case 'none':
        return Buffer.from(data);
    }
  } catch (err) {
    throw new InputError(`${what}: ${kind} data is corrupt or truncated (${err instanceof Error ? err.message : String(err)})`, 'refresh the metadata (e.g. `dnf makecache`) or rebuild the repository');
  }
}
