/**
 * What was built and whether it passed its checks, so `install` can refuse a
 * variant that was never built or failed. Keyed by the exact configuration
 * install writes (drop-in plus carried files).
 */
import { cacheDir } from '../cache.js';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { readRegularFile } from '../system/rooted.js';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { RenderedConfig } from './render.js';

export interface BuildRecord {
  key: string;
  kernelVersion: string;
  output: string;
  ok: boolean;
  failed: string[];
  at: string;
}

export function recordsDir(): string {
  return cacheDir('builds');
}

/** The configuration's identity, ignoring the generated-by header (its version line changes). */
export function configKey(config: Pick<RenderedConfig, 'text' | 'files'>): string {
  const h = createHash('sha256');
  h.update(config.text.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
  for (const [p, c] of [...config.files.entries()].sort()) h.update(`\0${p}\0${c}`);
  return h.digest('hex').slice(0, 24);
}

const recordSchema = z.object({
  key: z.string(),
  kernelVersion: z.string(),
  output: z.string(),
  ok: z.boolean(),
  failed: z.array(z.string()),
  at: z.string(),
});

export async function saveRecord(r: BuildRecord, dir = recordsDir()): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${r.key}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(r, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The record for a configuration; an unreadable or malformed one counts as none (build again). */
export async function findRecord(key: string, dir = recordsDir()): Promise<BuildRecord | null> {
  try {
    const raw = await readRegularFile(path.join(dir, `${key}.json`), { maxBytes: 1024 * 1024, what: 'a build record' });
    if (!raw) return null;
    const r = recordSchema.safeParse(JSON.parse(raw.toString('utf8')));
    return r.success && r.data.key === key ? r.data : null;
  } catch {
    return null;
  }
}
