/**
 * Reads an initrd natively: the concatenated segments (an uncompressed
 * microcode cpio first, then the compressed main archive), each a newc/crc
 * cpio. No external cpio or decompressor.
 */
import { LIMITS } from '../limits.js';
import { decompress, detectCompression } from '../decompress.js';
import { InputError } from '../errors.js';

export interface CpioEntry {
  name: string;
  mode: number;
  size: number;
  /** Index of the segment the entry came from (0 = first). */
  segment: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, as the archive stores it. */
  mtime: number;
  /** The archive's inode number and link count: what ties hard links together (and what `cpio --renumber-inodes` makes stable). */
  ino: number;
  nlink: number;
  /** Symlink target, for symlinks. */
  link?: string;
}

export interface CpioImage {
  entries: Map<string, CpioEntry>;
  segments: Array<{ compression: string; compressedSize: number; unpackedSize: number; files: number }>;
  /** Reads a regular file's content (small files: configs, rules). */
  read(name: string): Buffer | null;
}

const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

const align4 = (n: number) => (n + 3) & ~3;

function hex(buf: Buffer, at: number): number {
  const s = buf.toString('latin1', at, at + 8);
  if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new InputError(`cpio header field at byte ${at} is not hexadecimal`);
  return parseInt(s, 16);
}

/** Parses one uncompressed cpio archive starting at `start`; returns where it ended. */
function parseArchive(buf: Buffer, start: number, segment: number, out: CpioImage['entries'], data: Map<string, [Buffer, number, number]>): { end: number; files: number } {
  let pos = start;
  let files = 0;
  for (;;) {
    if (pos + 110 > buf.length) throw new InputError(`cpio archive truncated at byte ${pos} (no TRAILER!!!)`, 'rebuild the initrd');
    const magic = buf.toString('latin1', pos, pos + 6);
    if (magic !== '070701' && magic !== '070702') throw new InputError(`not a newc cpio header at byte ${pos} (magic ${JSON.stringify(magic)})`, 'rebuild the initrd');
    const ino = hex(buf, pos + 6);
    const mode = hex(buf, pos + 14);
    const stat = { uid: hex(buf, pos + 22), gid: hex(buf, pos + 30), nlink: hex(buf, pos + 38), mtime: hex(buf, pos + 46) };
    const size = hex(buf, pos + 54);
    const nameSize = hex(buf, pos + 94);
    const nameStart = pos + 110;
    if (nameSize < 1 || nameStart + nameSize > buf.length) throw new InputError(`cpio entry name at byte ${pos} runs past the end`, 'rebuild the initrd');
    const name = buf.toString('utf8', nameStart, nameStart + nameSize - 1);
    const dataStart = align4(nameStart + nameSize);
    if (dataStart + size > buf.length) throw new InputError(`cpio entry ${name} is truncated`, 'rebuild the initrd');
    pos = align4(dataStart + size);
    if (name === 'TRAILER!!!') return { end: pos, files };
    const clean = name.replace(/^\.?\/+/, '').replace(/^\.$/, '');
    if (!clean) continue;
    const entry: CpioEntry = { name: clean, mode, size, segment, ...stat, ino };
    if ((mode & S_IFMT) === S_IFLNK) entry.link = buf.toString('utf8', dataStart, dataStart + size);
    // Later segments override earlier ones, as the kernel unpacks them in order.
    out.set(clean, entry);
    if ((mode & S_IFMT) === S_IFREG) data.set(clean, [buf, dataStart, size]);
    files++;
  }
}

export async function readInitrd(raw: Buffer, what = 'initrd'): Promise<CpioImage> {
  const entries = new Map<string, CpioEntry>();
  const data = new Map<string, [Buffer, number, number]>();
  const segments: CpioImage['segments'] = [];
  let buf = raw;
  let pos = 0;
  while (pos < buf.length) {
    // Segments are padded with zeros to a 4-byte (often 512-byte) boundary.
    while (pos < buf.length && buf[pos] === 0) pos++;
    if (pos >= buf.length) break;
    const rest = buf.subarray(pos);
    const kind = detectCompression(rest);
    if (kind === 'none') {
      const { end, files } = parseArchive(buf, pos, segments.length, entries, data);
      segments.push({ compression: 'none', compressedSize: end - pos, unpackedSize: end - pos, files });
      pos = end;
      continue;
    }
    // A compressed segment runs to the end of the file.
    const unpacked = await decompress(rest, `${what} (segment ${segments.length + 1}, ${kind})`, { maxBytes: LIMITS.initrdUnpackedBytes, purpose: 'one initrd segment' });
    let inner = 0;
    let files = 0;
    while (inner < unpacked.length) {
      while (inner < unpacked.length && unpacked[inner] === 0) inner++;
      if (inner >= unpacked.length) break;
      const r = parseArchive(unpacked, inner, segments.length, entries, data);
      files += r.files;
      inner = r.end;
    }
    segments.push({ compression: kind, compressedSize: rest.length, unpackedSize: unpacked.length, files });
    buf = Buffer.alloc(0);
    pos = 0;
  }
  if (!segments.length) throw new InputError(`${what} is empty`, 'rebuild the initrd');
  return {
    entries,
    segments,
    read(name) {
      // Follow symlinks inside the image (etc/os-release → ../usr/lib/os-release).
      let current = name.replace(/^\/+/, '');
      for (let hops = 0; hops < 16; hops++) {
        const e = entries.get(current);
        if (!e?.link) break;
        const target = e.link.startsWith('/') ? e.link : `${current.split('/').slice(0, -1).join('/')}/${e.link}`;
        const parts: string[] = [];
        for (const seg of target.split('/')) {
          if (!seg || seg === '.') continue;
          if (seg === '..') parts.pop();
          else parts.push(seg);
        }
        current = parts.join('/');
      }
      const d = data.get(current);
      return d ? d[0].subarray(d[1], d[1] + d[2]) : null;
    },
  };
}

export function isFile(e: CpioEntry): boolean {
  return (e.mode & S_IFMT) === S_IFREG;
}
