/**
 * Debian bookworm's arm64 package list (main), for closures of a foreign
 * architecture: downloaded once into /var/tmp (kept across runs and
 * worktrees) and returned as text. Tests skip with offlineReason() when it
 * cannot be had.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decompress } from '../../src/decompress.js';

export const ARM64_PACKAGES_URL = 'http://deb.debian.org/debian/dists/bookworm/main/binary-arm64/Packages.xz';
export const ARM64_CACHE_DIR = process.env.IW_ARM64_CACHE ?? '/var/tmp/initrd-wizard-arm64';
/** The name apt gives that list in Dir::State::lists, for a source line `deb http://deb.debian.org/debian bookworm main`. */
export const ARM64_LIST_NAME = 'deb.debian.org_debian_dists_bookworm_main_binary-arm64_Packages';

let cached: string | null = null;

async function download(file: string): Promise<void> {
  const res = await fetch(ARM64_PACKAGES_URL, { signal: AbortSignal.timeout(180_000) });
  if (!res.ok) throw new Error(`${ARM64_PACKAGES_URL}: HTTP ${res.status}`);
  const tmp = `${file}.${process.pid}.part`;
  await writeFile(tmp, Buffer.from(await res.arrayBuffer()));
  await rename(tmp, file).catch(async (err) => {
    await rm(tmp, { force: true });
    throw err;
  });
}

/** The arm64 Packages text (~50 MB), from the cache or downloaded into it. */
export async function arm64Packages(): Promise<string> {
  if (cached) return cached;
  await mkdir(ARM64_CACHE_DIR, { recursive: true });
  const xz = path.join(ARM64_CACHE_DIR, 'Packages.xz');
  if (!existsSync(xz)) await download(xz);
  const raw = await readFile(xz);
  cached = (await decompress(raw, xz, { maxBytes: 1 << 30, purpose: 'a Packages file' })).toString('utf8');
  return cached;
}

/** Why the list cannot be had (null when it can): the cache is empty and the mirror does not answer. */
export async function arm64Unavailable(): Promise<string | null> {
  if (existsSync(path.join(ARM64_CACHE_DIR, 'Packages.xz'))) return null;
  try {
    await arm64Packages();
    return null;
  } catch (err) {
    return `Debian's arm64 list is not cached in ${ARM64_CACHE_DIR} and cannot be downloaded (${err instanceof Error ? err.message : String(err)})`;
  }
}

export const haveTool = (t: string): boolean => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0;
