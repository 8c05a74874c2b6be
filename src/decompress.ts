/**
 * gzip, zstd and xz by their magic bytes, in-process (no external tools).
 *
 * The input comes from other machines (repositories, initrds), so the output
 * is capped: a few kilobytes can expand to gigabytes. Every decoder stops as
 * soon as it passes the cap, so memory stays near the cap however large the
 * file claims or turns out to be.
 */
import { createGunzip, gunzipSync, type ZlibOptions } from 'node:zlib';
import { createRequire } from 'node:module';
import { decompress as zstdOneShot, Decompress as ZstdStream } from 'fzstd';
import { InputError } from './errors.js';
import { formatBytes, LIMITS } from './limits.js';

const require = createRequire(import.meta.url);

export type Compression = 'gzip' | 'zstd' | 'xz' | 'none';

export function detectCompression(data: Uint8Array): Compression {
  if (data[0] === 0x1f && data[1] === 0x8b) return 'gzip';
  if (data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd) return 'zstd';
  if (data[0] === 0xfd && data[1] === 0x37 && data[2] === 0x7a && data[3] === 0x58 && data[4] === 0x5a && data[5] === 0x00) return 'xz';
  return 'none';
}

export interface DecompressOptions {
  /** The most output accepted (default LIMITS.metadataBytes); more is an InputError. */
  maxBytes?: number;
  /** What one such file is, for the message (default "one decompressed file"; "one metadata file"). */
  purpose?: string;
  /** The next step when the data is corrupt. */
  hint?: string;
}

const CORRUPT_HINT = 'refresh the metadata (e.g. `dnf makecache`) or rebuild the repository';

/** The output passed the cap; thrown from inside a decoder's callback to stop it. */
class OverLimit extends Error {}

/** Why the data cannot be decoded, for the "corrupt" message. */
class Corrupt extends Error {}

/** Data a decoder could read but that this tool will not: the message and next step say why. */
class Refused extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
  }
}

/** Output chunks counted against the cap as they arrive. */
class Sink {
  private readonly chunks: Uint8Array[] = [];
  total = 0;
  constructor(readonly max: number) {}
  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    if (this.total > this.max) throw new OverLimit();
    if (chunk.length) this.chunks.push(chunk);
  }
  result(): Buffer {
    return Buffer.concat(this.chunks, this.total);
  }
}

/** The InputError for a failure inside a decoder: over the cap, refused, or corrupt. */
function decodeError(err: unknown, kind: Compression, max: number, what: string, o: DecompressOptions): InputError {
  if (err instanceof OverLimit) {
    return new InputError(
      `${what}: ${kind === 'none' ? 'data is larger than' : `${kind} data expands past`} ${formatBytes(max)}, the most accepted for ${o.purpose ?? 'one decompressed file'}`,
      'a real file is far smaller: check where it came from (a compression bomb?)',
    );
  }
  if (err instanceof Refused) return new InputError(`${what}: ${err.message}`, err.hint);
  return new InputError(`${what}: ${kind} data is corrupt or truncated (${err instanceof Error ? err.message : String(err)})`, o.hint ?? CORRUPT_HINT);
}

/**
 * The same output as `decompress`, in pieces, for a parser that need not hold
 * all of it: gzip (every rpm-md repository's default) is inflated on libuv's
 * thread pool a few MiB ahead of the consumer, so decompression overlaps
 * parsing and the whole output (70 MB for a 64k-package primary.xml) never
 * exists at once. The other formats are decoded whole and handed over as one
 * piece. Corrupt data and the cap fail as `decompress` fails, possibly after
 * earlier pieces were yielded.
 */
export async function* decompressPieces(data: Uint8Array, what: string, o: DecompressOptions = {}): AsyncGenerator<Buffer> {
  const kind = detectCompression(data);
  if (kind !== 'gzip') {
    yield await decompress(data, what, o);
    return;
  }
  const max = o.maxBytes ?? LIMITS.metadataBytes;
  // zlib passes stream options through to its Transform (the typings do not say so).
  const gz = createGunzip({ chunkSize: 1 << 20, readableHighWaterMark: 4 << 20 } as ZlibOptions);
  gz.end(data);
  let total = 0;
  try {
    for await (const piece of gz as AsyncIterable<Buffer>) {
      total += piece.length;
      if (total > max) throw new OverLimit();
      yield piece;
    }
  } catch (err) {
    throw decodeError(err, kind, max, what, o);
  } finally {
    gz.destroy();
  }
}

/** Decompresses one buffer; `what` names it in errors ("repodata/…-primary.xml.zst"). */
export async function decompress(data: Uint8Array, what: string, o: DecompressOptions = {}): Promise<Buffer> {
  const kind = detectCompression(data);
  const max = o.maxBytes ?? LIMITS.metadataBytes;
  try {
    switch (kind) {
      case 'gzip':
        return gunzip(data, max);
      case 'zstd':
        return unzstd(data, max);
      case 'xz':
        return await unxz(data, max);
      case 'none':
        if (data.length > max) throw new OverLimit();
        return Buffer.from(data);
    }
  } catch (err) {
    throw decodeError(err, kind, max, what, o);
  }
}

/**
 * The output chunk size: the gzip trailer's ISIZE (the last member's length
 * mod 2^32) when it is plausible, so a usual single-member file inflates into
 * one buffer, with no second copy to concatenate the chunks (~70 MB and ~50 ms
 * for a 64k-package primary.xml). Only a hint: a wrong one costs chunks, not
 * correctness. Trusted up to deflate's largest ratio (~1032:1) and max, so a
 * lying trailer cannot make a small file claim a huge buffer.
 */
function gunzipChunk(data: Uint8Array, max: number): number {
  const floor = 64 * 1024;
  if (data.length < 18) return floor;
  const isize = (data[data.length - 4]! | (data[data.length - 3]! << 8) | (data[data.length - 2]! << 16) | (data[data.length - 1]! << 24)) >>> 0;
  const hint = isize + 1;
  return hint > floor && hint <= data.length * 1032 && hint <= max + 1 ? hint : floor;
}

function gunzip(data: Uint8Array, max: number): Buffer {
  try {
    // zlib counts the output itself and stops at maxOutputLength.
    return gunzipSync(data, { maxOutputLength: Math.max(1, max), chunkSize: gunzipChunk(data, max) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new OverLimit();
    throw err;
  }
}

// --- zstd -------------------------------------------------------------------

interface ZstdFrame {
  start: number;
  end: number;
  /** The history the decoder allocates for this frame. */
  window: number;
  /** The content size the header declares; null when it does not (or declares 0, which fzstd cannot decode in place). */
  declared: number | null;
  blocks: number;
}

const ZSTD_MAGIC = 0xfd2fb528;

function u32(data: Uint8Array, at: number): number {
  if (at + 4 > data.length) throw new Corrupt('truncated frame header');
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}

function uintLE(data: Uint8Array, at: number, bytes: number): number {
  if (at + bytes > data.length) throw new Corrupt('truncated frame header');
  let v = 0;
  for (let i = bytes - 1; i >= 0; i--) v = v * 256 + data[at + i]!;
  return v;
}

/**
 * Walks the frames and block headers without decoding anything (RFC 8878
 * 3.1.1), so what a header asks for is judged before the decoder allocates
 * it, and each frame is decoded on its own (fzstd recurses once per frame,
 * which a file of many tiny frames would turn into a stack overflow).
 */
function zstdFrames(data: Uint8Array): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  let pos = 0;
  while (pos < data.length) {
    const magic = u32(data, pos);
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      pos += 8 + u32(data, pos + 4); // a skippable frame: user data, no output
      if (pos > data.length) throw new Corrupt('truncated skippable frame');
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new Corrupt(frames.length ? 'data after the last frame' : 'not a zstd frame');
    const start = pos;
    if (pos + 5 > data.length) throw new Corrupt('truncated frame header');
    const fhd = data[pos + 4]!;
    if (fhd & 8) throw new Corrupt('reserved bit set in a frame header');
    const singleSegment = (fhd >> 5) & 1;
    pos += 5;
    let window = 0;
    if (!singleSegment) {
      if (pos >= data.length) throw new Corrupt('truncated frame header');
      const wd = data[pos++]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    pos += [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = [singleSegment, 2, 4, 8][fhd >> 6]!;
    const fcs = fcsBytes ? uintLE(data, pos, fcsBytes) + (fcsBytes === 2 ? 256 : 0) : null;
    pos += fcsBytes;
    if (singleSegment) window = fcs!;
    let blocks = 0;
    for (let last = 0; !last; blocks++) {
      if (pos + 3 > data.length) throw new Corrupt('truncated block');
      const header = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
      last = header & 1;
      const type = (header >> 1) & 3;
      if (type === 3) throw new Corrupt('reserved block type');
      pos += 3 + (type === 1 ? 1 : header >>> 3);
      if (pos > data.length) throw new Corrupt('truncated block');
    }
    if ((fhd >> 2) & 1) pos += 4; // content checksum
    if (pos > data.length) throw new Corrupt('truncated frame checksum');
    frames.push({ start, end: pos, window, declared: fcs || null, blocks });
  }
  return frames;
}

/**
 * fzstd's streaming decoder shifts its whole window after every block, so a
 * frame costs blocks × window bytes of copying, and every frame has a fixed
 * cost of its own. Real files (one frame, or a few per 4 MiB with pzstd;
 * windows ≤ 8 MiB, 128 KiB blocks) stay within 64 × their output, while a
 * few megabytes of tiny blocks or frames under large windows would keep it
 * busy for hours.
 */
const ZSTD_COST_FACTOR = 64;
const ZSTD_MIN_FRAME_COST = 1024 * 1024;

function unzstd(data: Uint8Array, max: number): Buffer {
  const frames = zstdFrames(data);
  let declared = 0;
  let cost = 0;
  let blocks = 0;
  let widest = 0;
  for (const f of frames) {
    declared += f.declared ?? 0;
    if (declared > max) throw new OverLimit();
    if (f.window > LIMITS.zstdWindowBytes) throw new Refused(`a zstd frame asks for a ${formatBytes(f.window)} window, more than the ${formatBytes(LIMITS.zstdWindowBytes)} zstd itself accepts by default`, 'recompress it with zstd at a usual level (without --long beyond 27)');
    cost += Math.max(f.window, ZSTD_MIN_FRAME_COST) * (f.declared === null ? f.blocks : 1);
    blocks += f.blocks;
    widest = Math.max(widest, f.window);
  }
  if (cost > ZSTD_COST_FACTOR * Math.max(max, 16 * 1024 * 1024)) {
    throw new Refused(`zstd data is too costly to decode: ${frames.length} frames, ${blocks} blocks, windows of up to ${formatBytes(widest)} (real files have far fewer)`, 'recompress it with zstd at a usual level (up to 19), or use the gzip or xz copy');
  }
  const sink = new Sink(max);
  for (const f of frames) {
    const bytes = data.subarray(f.start, f.end);
    if (f.declared !== null) {
      // The declared size (counted against the cap above) is the output buffer: decoded in place, no window to shift.
      sink.push(zstdOneShot(bytes));
      continue;
    }
    let ended = false;
    const stream = new ZstdStream((chunk, final) => {
      sink.push(chunk);
      if (final) ended = true;
    });
    stream.push(bytes, true);
    if (!ended) throw new Corrupt('a frame ends early');
  }
  return sink.result();
}

// --- xz ---------------------------------------------------------------------

type XzStreamClass = new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;

/** Empty output chunks in a row, after all input was given, that mean the decoder is stuck on truncated data. */
const XZ_STALLED = 64;

async function unxz(data: Uint8Array, max: number): Promise<Buffer> {
  const { XzReadableStream } = require('xz-decompress') as { XzReadableStream: XzStreamClass };
  let inputDone = false;
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(data);
    },
    pull(c) {
      inputDone = true;
      c.close();
    },
  });
  const reader = new XzReadableStream(input).getReader();
  const sink = new Sink(max);
  let empty = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return sink.result();
    try {
      sink.push(value);
    } catch (err) {
      // Cancelling frees the decoder and the lock xz-decompress holds for it.
      await reader.cancel().catch(() => undefined);
      throw err;
    }
    empty = value.length ? 0 : empty + 1;
    if (inputDone && empty > XZ_STALLED) {
      await reader.cancel().catch(() => undefined);
      throw new Corrupt('the stream ends early');
    }
  }
}
