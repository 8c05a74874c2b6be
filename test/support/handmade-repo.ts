/**
 * rpm-md repositories written by hand (no rpmbuild): primary.xml text, its
 * compression and a repomd.xml that names it with a checksum, so tests can put
 * any bytes at any place of a repository in milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface HandPkg {
  name: string;
  ver?: string;
  arch?: string;
  requires?: string[];
  provides?: string[];
  recommends?: string[];
  size?: number;
}

export const escXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const FLAGS: Record<string, string> = { '=': 'EQ', '>=': 'GE', '<=': 'LE', '<': 'LT', '>': 'GT' };

/** "name", "name >= 2" (written as flags and ver, as createrepo_c does) or a rich "(a or b)". */
function entryXml(dep: string): string {
  const m = /^([^\s(]\S*) (=|>=|<=|<|>) (\S+)$/.exec(dep);
  if (!m) return `<rpm:entry name="${escXml(dep)}"/>`;
  return `<rpm:entry name="${escXml(m[1]!)}" flags="${FLAGS[m[2]!]}" epoch="0" ver="${escXml(m[3]!)}"/>`;
}

/** One <package> element as createrepo_c writes it (the fields the reader uses). */
export function packageXml(p: HandPkg): string {
  const entries = (tag: string, list: string[] = []) => (list.length ? `<rpm:${tag}>${list.map(entryXml).join('')}</rpm:${tag}>` : '');
  return (
    `<package type="rpm"><name>${escXml(p.name)}</name><arch>${p.arch ?? 'noarch'}</arch><version epoch="0" ver="${p.ver ?? '1.0'}" rel="1"/>` +
    `<size package="1" installed="${p.size ?? 100}" archive="1"/><format>${entries('provides', p.provides)}${entries('requires', p.requires)}${entries('recommends', p.recommends)}</format></package>\n`
  );
}

export function primaryXml(pkgs: HandPkg[], body = pkgs.map(packageXml).join('')): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${pkgs.length}">\n${body}</metadata>\n`;
}

export type Compression = 'gz' | 'zst' | 'xz' | 'none';

export function compress(data: Buffer, how: Compression): Buffer {
  if (how === 'gz') return gzipSync(data);
  if (how === 'zst') return execFileSync('zstd', ['-q', '-c'], { input: data });
  if (how === 'xz') return execFileSync('xz', ['-c'], { input: data });
  return data;
}

/**
 * A repository in `dir` whose primary is `xml` compressed as asked (or, with
 * `stored`, these exact bytes under that compression's name), named by
 * repomd.xml with its sha256.
 */
export async function writeHandRepo(dir: string, xml: string | Buffer, how: Compression = 'gz', options: { stored?: boolean } = {}): Promise<void> {
  const bytes = Buffer.isBuffer(xml) ? xml : Buffer.from(xml);
  const primary = options.stored ? bytes : compress(bytes, how);
  const href = `repodata/primary.xml${how === 'none' ? '' : `.${how}`}`;
  await mkdir(path.join(dir, 'repodata'), { recursive: true });
  await writeFile(path.join(dir, href), primary);
  const sum = createHash('sha256').update(primary).digest('hex');
  await writeFile(
    path.join(dir, 'repodata', 'repomd.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision>` +
      `<data type="primary"><checksum type="sha256">${sum}</checksum><location href="${escXml(href)}"/><timestamp>1</timestamp></data></repomd>\n`,
  );
}

/** A small deterministic PRNG (mulberry32): the same inputs on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
