/**
 * The tar archives snapshots travel in (`snapshot --output FILE.tar`, fetched
 * by Ansible, read by `fleet` and `--snapshot`): ustar written, and read back
 * from ustar, GNU and pax archives as `tar` writes them. Pure: bytes in,
 * entries or bytes out.
 *
 * An archive comes from another machine. Reading it never writes anything,
 * and it only lists what each entry claims to be: the caller decides which
 * names it reads and refuses links and devices among them. A damaged or
 * foreign header is a TarError naming the entry, never a guess.
 */

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'character device' | 'block device' | 'FIFO' | 'other';

export interface TarEntry {
  /** The name as archived, without a leading "./" and without a trailing "/". */
  name: string;
  type: TarEntryType;
  /** The content, for a file; empty otherwise. A view into the archive's bytes. */
  data: Buffer;
}

export class TarError extends Error {
  override readonly name = 'TarError';
}

const BLOCK = 512;

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink', '3': 'character device', '4': 'block device', '6': 'FIFO',
};

function field(h: Buffer, at: number, len: number): string {
  const end = h.indexOf(0, at);
  return h.toString('utf8', at, end === -1 || end > at + len ? at + len : end);
}

/** An octal number field; a base-256 one (GNU, for sizes over 8 GiB) is refused as larger than anything a snapshot holds. */
function octal(h: Buffer, at: number, len: number, what: string, entry: string): number {
  if (h[at]! & 0x80) throw new TarError(`${entry}: its ${what} is stored in base-256, meaning over 8 GiB`);
  const text = field(h, at, len).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarError(`${entry}: its ${what} field is not an octal number`);
  return text ? parseInt(text, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  const stored = field(h, 148, 8).trim();
  if (!/^[0-7]+$/.test(stored)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === parseInt(stored, 8);
}

/** "path" and "size" from a pax extended header; the other keys do not change what an entry is. */
function paxRecords(data: Buffer, entry: string): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space === -1 ? NaN : Number(data.toString('latin1', at, space));
    if (!Number.isSafeInteger(len) || len <= space - at || at + len > data.length || data[at + len - 1] !== 0x0a) throw new TarError(`${entry}: a damaged pax header`);
    const record = data.toString('utf8', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq === -1) throw new TarError(`${entry}: a damaged pax header`);
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    if (key === 'size') {
      if (!/^\d+$/.test(value)) throw new TarError(`${entry}: a pax size that is not a number`);
      out.size = Number(value);
    }
    at += len;
  }
  return out;
}

function cleanName(name: string): string {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  while (n.endsWith('/')) n = n.slice(0, -1);
  return n;
}

/**
 * Every entry of an archive, in order. `maxEntries` stops a million empty
 * headers before they are all listed. The archive's bytes are held by the
 * caller; entries' data are views into them.
 */
export function readTar(bytes: Buffer, maxEntries: number): TarEntry[] {
  const entries: TarEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  let pax: { path?: string; size?: number } = {};
  while (at + BLOCK <= bytes.length) {
    const h = bytes.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) return entries; // the end marker (a second zero block may follow, or not)
    const where = `the entry at byte ${at}`;
    if (!checksumOk(h)) throw new TarError(entries.length ? `${where} has a bad header checksum (the archive is damaged)` : 'it does not start with a tar header');
    const magic = h.toString('latin1', 257, 263);
    const prefix = magic === 'ustar\0' ? field(h, 345, 155) : '';
    const headerName = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
    const size = pax.size ?? octal(h, 124, 12, 'size', where);
    const type = String.fromCharCode(h[156]!);
    const start = at + BLOCK;
    if (start + size > bytes.length) throw new TarError(`${where} (${headerName}) claims ${size} bytes past the end of the archive (it is truncated)`);
    const data = bytes.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'x') {
      pax = paxRecords(data, where);
      continue;
    }
    if (type === 'g' || type === 'K') continue; // global pax defaults and long link names name nothing read here
    const name = cleanName(pax.path ?? longName ?? headerName);
    longName = undefined;
    pax = {};
    const kind = TYPES[type] ?? 'other';
    entries.push({ name, type: kind, data: kind === 'file' ? data : data.subarray(0, 0) });
    if (entries.length > maxEntries) throw new TarError(`it holds more than ${maxEntries} entries`);
  }
  if (at < bytes.length || entries.length === 0) throw new TarError(entries.length ? 'it ends inside a header (it is truncated)' : 'it is empty, or not a tar archive');
  return entries;
}

function header(name: string, type: '0' | '5', size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const bytes = Buffer.from(name, 'utf8');
  // Names longer than 100 bytes go into the ustar prefix, split at a slash.
  let base = bytes;
  let prefix = Buffer.alloc(0);
  if (bytes.length > 100) {
    const cut = name.replace(/\/$/, '').lastIndexOf('/');
    prefix = Buffer.from(name.slice(0, cut), 'utf8');
    base = Buffer.from(name.slice(cut + 1), 'utf8');
    if (cut <= 0 || prefix.length > 155 || base.length > 100) throw new TarError(`${name}: too long a name for a ustar archive`);
  }
  base.copy(h, 0);
  h.write(type === '5' ? '0000755\0' : '0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write(Math.max(0, Math.floor(mtime)).toString(8).padStart(11, '0') + '\0', 136, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  prefix.copy(h, 345);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

/**
 * A ustar archive of `files` (name → content) under one top directory, the
 * way `tar -cf NAME.tar NAME/` would lay it out, so extracting it never
 * scatters files into the current directory. Directories get their own
 * entries; owners are 0 and every time is `mtime`, so the same snapshot
 * gives the same bytes.
 */
export function writeTar(top: string, files: ReadonlyArray<readonly [string, string | Buffer]>, mtime: number): Buffer {
  const out: Buffer[] = [header(`${top}/`, '5', 0, mtime)];
  const dirs = new Set<string>();
  for (const [name, content] of files) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      out.push(header(`${top}/${dir}/`, '5', 0, mtime));
    }
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    out.push(header(`${top}/${name}`, '0', data.length, mtime), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) out.push(Buffer.alloc(pad));
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}
