/**
 * Where package metadata comes from (rpm-md directories, the host's dnf, the
 * host's apt) and the on-disk cache of the parsed result, keyed by the
 * repositories' own checksums so a refresh invalidates it.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadAptMetadata } from './apt.js';
import { loadDnfFileOwners, loadDnfMetadata, type DnfFlavor } from './dnf.js';
import { deserializePool, Pool, serializePool, type PackedPool, type PoolSource } from './pool.js';
import { loadRpmRepos, readRepomd, rpmFileLoader, type RepoRef } from './rpmmd.js';
import type { Runner } from '../system/run.js';

export type MetadataSpec =
  | { kind: 'rpm-md'; repos: RepoRef[] }
  | { kind: 'dnf'; flavor: DnfFlavor; extraArgs?: string[] }
  | { kind: 'apt' };

export interface LoadedPool {
  pool: Pool;
  warnings: string[];
  cache: 'hit' | 'miss' | 'off';
  ms: number;
}

const CACHE_VERSION = 1;

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'initrd-wizard', 'metadata');
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

/** A key that changes whenever the repositories' metadata does; null when it cannot be known (no caching). */
async function cacheKey(spec: MetadataSpec): Promise<string | null> {
  const h = createHash('sha256').update(`v${CACHE_VERSION}\0${spec.kind}\0`);
  if (spec.kind === 'rpm-md') {
    for (const r of spec.repos) {
      const meta = await readRepomd(r);
      h.update(`${r.name}\0${path.resolve(r.dir)}\0${meta.primary.checksum}\0${meta.filelists?.checksum ?? ''}\0`);
    }
  } else if (spec.kind === 'apt') {
    const stamps = await fileStamps(await listDeep('/var/lib/apt/lists', /_Packages(\.\w+)?$/, 0));
    if (!stamps.length) return null;
    h.update(stamps.join('\n'));
  } else {
    const stamps = await fileStamps([...(await listDeep('/var/cache/dnf', /^repomd\.xml$/)), ...(await listDeep('/var/cache/libdnf5', /^repomd\.xml$/))]);
    if (!stamps.length || spec.extraArgs?.length) return null;
    h.update(spec.flavor + '\n' + stamps.join('\n'));
  }
  return h.digest('hex').slice(0, 32);
}

async function readCache(file: string, key: string, warnings: string[]): Promise<PackedPool | null> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch {
    return null;
  }
  try {
    const { data, meta } = deserializePool(raw);
    if (meta.version === CACHE_VERSION && meta.key === key) return data;
    warnings.push(`metadata cache ${file} is stale; rebuilding it`);
  } catch {
    warnings.push(`metadata cache ${file} is corrupt; rebuilding it`);
  }
  await rm(file, { force: true });
  return null;
}

async function writeCache(file: string, key: string, data: PackedPool): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, serializePool(data, { version: CACHE_VERSION, key }), { mode: 0o600 });
  await rename(tmp, file);
}

async function loadUncached(spec: MetadataSpec, runner: Runner): Promise<{ source: PoolSource; warnings: string[] }> {
  switch (spec.kind) {
    case 'rpm-md':
      return loadRpmRepos(spec.repos);
    case 'dnf':
      return loadDnfMetadata(runner, spec.flavor, { extraArgs: spec.extraArgs });
    case 'apt':
      return loadAptMetadata(runner);
  }
}

export interface LoadPoolOptions {
  runner: Runner;
  cacheDir?: string | null;
}

export async function loadPool(spec: MetadataSpec, options: LoadPoolOptions): Promise<LoadedPool> {
  const started = performance.now();
  const warnings: string[] = [];
  const dir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const key = dir ? await cacheKey(spec) : null;
  const file = dir && key ? path.join(dir, `${key}.v8`) : null;
  // File-list loaders are functions: re-attached after a cache hit.
  const attach = async (source: PoolSource): Promise<PoolSource> => {
    if (spec.kind === 'rpm-md') return { ...source, loadFiles: rpmFileLoader(await Promise.all(spec.repos.map(readRepomd))) };
    if (spec.kind === 'dnf') return { ...source, loadFiles: loadDnfFileOwners(options.runner, spec.flavor, spec.extraArgs ?? []) };
    return source;
  };
  if (file && key) {
    const cached = await readCache(file, key, warnings);
    if (cached) {
      const base: PoolSource = { data: cached };
      return { pool: new Pool(await attach(base)), warnings, cache: 'hit', ms: performance.now() - started };
    }
  }
  const { source, warnings: w } = await loadUncached(spec, options.runner);
  warnings.push(...w);
  if (file && key) {
    await writeCache(file, key, source.data).catch((err) =>
      warnings.push(`could not write the metadata cache ${file}: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
  return { pool: new Pool(await attach(source)), warnings, cache: file ? 'miss' : 'off', ms: performance.now() - started };
}
