/**
 * Where package metadata comes from (rpm-md directories, the host's dnf, the
 * host's apt) and the on-disk cache of the parsed result, keyed by the
 * repositories' own checksums so a refresh invalidates it.
 *
 * The cache is only ever a copy: one that cannot be read, fails its checksum
 * or does not hold together is rebuilt with a warning, never trusted and never
 * fatal; a write that fails leaves no temporary file behind, and temporary
 * files of killed runs are swept on the next load.
 */
import { cacheDir } from '../cache.js';
import { lstat, mkdir, open, readdir, rename, stat, rm, unlink, type FileHandle } from 'node:fs/promises';
import { closeSync, constants as fsc, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { describeUnknown } from '../errors.js';
import { LIMITS } from '../limits.js';
import { kindOf, NotRegularFileError, readRegularFile, TooLargeError } from '../system/rooted.js';
import { InputError } from '../errors.js';
import { loadDnfFileOwners, loadDnfMetadata, type DnfFlavor } from './dnf.js';
import { deserializePool, indexPacked, Pool, serializePoolPieces, type PackedPool, type PoolIndex, type PoolSource } from './pool.js';
import { loadRpmMetas, readRepomd, rpmFileLoader, verifyPrimaries, type RepoRef, type RpmRepoMeta } from './rpmmd.js';
import type { Runner } from '../system/run.js';
import { debArch, hostMachine, rpmArch } from './arch.js';

export type MetadataSpec =
  | { kind: 'rpm-md'; repos: RepoRef[] }
  | { kind: 'dnf'; flavor: DnfFlavor; extraArgs?: string[]; /** 'dnf5' or 'dnf'; the flavour's own name when absent. */ command?: string }
  | { kind: 'apt' }
  /** A Debian Packages file (plain or compressed): the demo's recorded Debian release. */
  | { kind: 'deb-file'; file: string };

export interface LoadedPool {
  pool: Pool;
  /** Shared with the pool: dependencies it cannot read are added here as a resolution meets them. */
  warnings: string[];
  cache: 'hit' | 'miss' | 'off';
  ms: number;
}

/**
 * 2: the header carries a sha256 of the content.
 * 3: packages the target architecture cannot install are not loaded.
 * 4: used in place (strings as UTF-8 bytes, the name and provide indexes
 * stored), a fast checksum, and the verified primary files' stat stamps.
 * 5: the header holds the key's whole text; the file is named by its hash.
 */
const CACHE_VERSION = 5;

export function defaultCacheDir(): string {
  return cacheDir('metadata');
}

async function fileStamps(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths.sort()) {
    const s = await stat(p).catch(() => null);
    if (s) out.push(`${p}:${s.size}:${s.mtimeMs}`);
  }
  return out;
}

async function listDeep(dir: string, match: RegExp, depth = 3): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && depth > 0) out.push(...(await listDeep(p, match, depth - 1)));
    else if (match.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * The text a cache entry is for: what changes whenever the repositories'
 * metadata does. Null when it cannot be known (no caching).
 */
async function cacheKey(spec: MetadataSpec, metas: RpmRepoMeta[] | null, arch: string): Promise<string | null> {
  const parts = [`v${CACHE_VERSION}`, spec.kind, arch];
  if (spec.kind === 'rpm-md') {
    for (const meta of metas ?? []) {
      const sum = (e: RpmRepoMeta['primary'] | null) => (e ? `${e.checksum.type}:${e.checksum.value}` : '');
      parts.push(meta.repo.name, path.resolve(meta.repo.dir), sum(meta.primary), sum(meta.filelists));
    }
  } else if (spec.kind === 'deb-file') {
    const stamps = await fileStamps([path.resolve(spec.file)]);
    if (!stamps.length) return null;
    parts.push(...stamps);
  } else if (spec.kind === 'apt') {
    const stamps = await fileStamps(await listDeep('/var/lib/apt/lists', /_Packages(\.\w+)?$/, 0));
    if (!stamps.length) return null;
    parts.push(...stamps);
  } else {
    const stamps = await fileStamps([...(await listDeep('/var/cache/dnf', /^repomd\.xml$/)), ...(await listDeep('/var/cache/libdnf5', /^repomd\.xml$/))]);
    if (!stamps.length || spec.extraArgs?.length) return null;
    parts.push(spec.flavor, ...stamps);
  }
  return parts.join('\0');
}

/**
 * The cache file's name for a key: two FNV-1a hashes, 64 bits. Not a
 * cryptographic hash (loading node:crypto was ~9 ms of every warm start):
 * the header holds the whole key and a file whose key differs is stale.
 */
function cacheName(key: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** Removes a cache file that will be rebuilt; a failure here shows up when the new one is written. */
async function discard(file: string): Promise<void> {
  await rm(file, { force: true }).catch(() => undefined);
}

/**
 * The cache file in one buffer of its own (byteOffset 0, so the pool's typed
 * arrays view it in place), read straight into it rather than in chunks and
 * concatenated (a 12 MB copy). Not a plain readFile: a FIFO or a link to
 * /dev/zero in the cache directory would never end. Null when absent.
 */
function readCacheFile(file: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotRegularFileError(`${file} is ${kindOf(st)}, not a regular file`);
    if (st.size > LIMITS.cacheBytes) throw new TooLargeError(`${file} is larger than the ${LIMITS.cacheBytes} bytes a cache may be`);
    const buf = Buffer.allocUnsafeSlow(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) throw new Error('it shrank while it was read');
      got += n;
    }
    if (readSync(fd, Buffer.alloc(1), 0, 1, null) !== 0) throw new Error('it grew while it was read');
    return buf;
  } finally {
    closeSync(fd);
  }
}

interface CacheHit {
  data: PackedPool;
  index: PoolIndex;
  meta: Record<string, unknown>;
}

async function readCache(file: string, key: string, warnings: string[]): Promise<CacheHit | null> {
  let raw: Buffer | null;
  try {
    raw = readCacheFile(file);
  } catch (err) {
    warnings.push(`metadata cache ${file} is corrupt (${describeUnknown(err)}); rebuilding it`);
    await discard(file);
    return null;
  }
  if (!raw) return null;
  const r = deserializePool(raw);
  if (!r.ok) warnings.push(`metadata cache ${file} is corrupt (${r.error}); rebuilding it`);
  else if (r.value.meta.version === CACHE_VERSION && r.value.meta.key === key) return r.value;
  else warnings.push(`metadata cache ${file} is stale; rebuilding it`);
  await discard(file);
  return null;
}

/** "KEY.v8.PID.RANDOM.tmp" (and "KEY.v8.PID.tmp" from older versions). */
const TEMP_NAME = /\.v8\.(\d+)(?:\.[0-9a-f]+)?\.tmp$/;
const STALE_TEMP_MS = 60 * 60 * 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary files of writes that never finished: their process is gone, or they are older than any write takes. */
async function sweepTemps(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const p = path.join(dir, name);
    const st = await lstat(p).catch(() => null);
    if (!st || st.isDirectory()) continue;
    if (alive(Number(m[1])) && now - st.mtimeMs < STALE_TEMP_MS) continue;
    await unlink(p).catch(() => undefined);
  }
}

/** Writes every piece, however the kernel splits the writes (a short writev resumes where it stopped). */
async function writeAll(fh: FileHandle, pieces: Uint8Array[]): Promise<void> {
  let rest = pieces.filter((p) => p.length);
  while (rest.length) {
    let { bytesWritten } = await fh.writev(rest.slice(0, 512));
    if (bytesWritten === 0) throw new Error('the disk took no bytes');
    while (rest.length && bytesWritten >= rest[0]!.length) bytesWritten -= rest.shift()!.length;
    if (bytesWritten) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}

async function writeCache(file: string, key: string, data: PackedPool, index: PoolIndex, extra: Record<string, unknown>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const { randomBytes } = await import('node:crypto');
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const pieces = serializePoolPieces(data, { ...extra, version: CACHE_VERSION, key }, index);
    // "wx": never through a link or over a file someone placed at that name.
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await writeAll(fh, pieces);
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * dnf answers for the machine it runs on ($basearch picks the repositories'
 * URLs too): another target is asked for with --forcearch, which dnf4 and
 * dnf5 both take.
 */
function dnfArgs(spec: Extract<MetadataSpec, { kind: 'dnf' }>, arch: string): string[] {
  const own = spec.extraArgs ?? [];
  return arch === hostMachine() ? own : [...own, `--forcearch=${rpmArch(arch)}`];
}

async function loadUncached(spec: MetadataSpec, runner: Runner, metas: RpmRepoMeta[] | null, arch: string): Promise<{ source: PoolSource; warnings: string[] }> {
  switch (spec.kind) {
    case 'rpm-md':
      return loadRpmMetas(metas!, rpmArch(arch));
    case 'dnf':
      return loadDnfMetadata(runner, spec.flavor, { extraArgs: dnfArgs(spec, arch), command: spec.command, arch: rpmArch(arch) });
    case 'apt':
      return (await import('./apt.js')).loadAptMetadata(runner, debArch(arch));
    case 'deb-file': {
      const raw = await readRegularFile(spec.file, { maxBytes: LIMITS.metadataCompressedBytes, what: 'the Packages file' });
      if (!raw) throw new InputError(`${spec.file} does not exist`, 'reinstall initrd-wizard (the demo carries its Debian package list)');
      const [{ decompress }, { parseDebPackages }] = await Promise.all([import('../decompress.js'), import('./apt.js')]);
      const text = (await decompress(raw, spec.file, { maxBytes: LIMITS.metadataBytes, purpose: 'a Packages file' })).toString('utf8');
      const { data, warnings } = parseDebPackages(text, debArch(arch), 'demo');
      return { source: { data }, warnings };
    }
  }
}

/**
 * Stat stamps of the primary files, so a cache hit need not re-hash them
 * (7 MB of sha256 on every warm start). Sound because (dev, ino) names the
 * very file that was hashed, and any change to its content updates its mtime
 * and ctime; ctime cannot be set back from user space (utimes sets it to
 * now), so a rewrite that restores mtime still shows. A file whose ctime is
 * within RACY_MS of now gets no stamp: a write in the same clock tick as the
 * stat could leave the stamp unchanged (git's "racily clean" case), so such a
 * file is hashed again on the next hit instead. Null when a file is missing
 * or not regular (the normal, hashing path then reports it).
 */
const RACY_MS = 2000n;

async function primaryStamps(metas: RpmRepoMeta[]): Promise<string[] | null> {
  const out: string[] = [];
  for (const m of metas) {
    const st = await lstat(path.join(m.repo.dir, m.primary.href), { bigint: true }).catch(() => null);
    if (!st || !st.isFile()) return null;
    if (BigInt(Date.now()) - st.ctimeMs < RACY_MS) return null;
    out.push(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${m.primary.checksum.type}:${m.primary.checksum.value}`);
  }
  return out;
}

async function sameStamps(metas: RpmRepoMeta[], recorded: unknown): Promise<boolean> {
  if (!Array.isArray(recorded)) return false;
  const now = await primaryStamps(metas);
  return now !== null && JSON.stringify(now) === JSON.stringify(recorded);
}

export interface LoadPoolOptions {
  runner: Runner;
  cacheDir?: string | null;
  /**
   * The target machine's architecture as the kernel names it (x86_64,
   * aarch64, …): each source maps it to its own names (amd64, arm64, …).
   * Defaults to this machine's.
   */
  arch?: string;
}

/** At most this many of a source's own warnings, then a count (a hostile dump can hold millions). */
const SOURCE_WARNINGS = 50;

function addWarnings(to: string[], from: string[]): void {
  for (const w of from.slice(0, SOURCE_WARNINGS)) to.push(w);
  if (from.length > SOURCE_WARNINGS) to.push(`… and ${from.length - SOURCE_WARNINGS} more warnings like these`);
}

export async function loadPool(spec: MetadataSpec, options: LoadPoolOptions): Promise<LoadedPool> {
  const started = performance.now();
  const warnings: string[] = [];
  const dir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  // Read once: the key, the parse and the file-list loader all follow the same repomd.xml.
  const metas = spec.kind === 'rpm-md' ? await Promise.all(spec.repos.map(readRepomd)) : null;
  const arch = options.arch ?? hostMachine();
  const key = dir ? await cacheKey(spec, metas, arch) : null;
  const file = dir && key ? path.join(dir, `${cacheName(key)}.v8`) : null;
  // File-list loaders are functions: re-attached after a cache hit.
  const attach = (source: PoolSource): PoolSource => {
    if (metas) return { ...source, loadFiles: rpmFileLoader(metas) };
    if (spec.kind === 'dnf') return { ...source, loadFiles: loadDnfFileOwners(options.runner, spec.flavor, dnfArgs(spec, arch), spec.command) };
    return source;
  };
  if (dir && file && key) {
    await sweepTemps(dir);
    const cached = await readCache(file, key, warnings);
    if (cached) {
      // The key holds repomd.xml's checksums; the files on disk must still be the ones they describe.
      if (metas && !(await sameStamps(metas, cached.meta.primaries))) await verifyPrimaries(metas);
      return { pool: new Pool(attach({ data: cached.data, index: cached.index }), warnings), warnings, cache: 'hit', ms: performance.now() - started };
    }
  }
  const before = metas && file ? await primaryStamps(metas) : null;
  const { source, warnings: w } = await loadUncached(spec, options.runner, metas, arch);
  addWarnings(warnings, w);
  const index = indexPacked(source.data);
  if (file && key) {
    const after = before ? await primaryStamps(metas!) : null;
    // Recorded only when the files did not change while they were read and hashed.
    const primaries = before && after && JSON.stringify(before) === JSON.stringify(after) ? after : null;
    await writeCache(file, key, source.data, index, { primaries }).catch((err) => warnings.push(`could not write the metadata cache ${file}: ${describeUnknown(err)}`));
  }
  return { pool: new Pool(attach({ ...source, index }), warnings), warnings, cache: file ? 'miss' : 'off', ms: performance.now() - started };
}
