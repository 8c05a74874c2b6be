/**
 * A snapshot is a directory of raw probe outputs (see shared/docs/snapshot-format.md).
 * In memory it is a map from file name to content, so a live capture and a
 * recorded directory look the same to the analyzer.
 */
import { mkdir, readdir, readFile, stat, writeFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { InputError, describeUnknown } from '../errors.js';

export const SNAPSHOT_FORMAT = 1;

export interface SnapshotMeta {
  format: number;
  captured: string;
  kernel: string;
  arch: string;
  capturedBy: string;
}

export interface ProbeError {
  probe: string;
  command: string;
  exitCode: number | null;
  stderr: string;
}

export interface Snapshot {
  /** Where it was read from; null for a live capture held in memory. */
  dir: string | null;
  meta: SnapshotMeta;
  files: Map<string, string>;
  errors: ProbeError[];
  /** Problems found while loading (unknown format, unreadable files). */
  warnings: string[];
}

const metaSchema = z.object({
  format: z.number().int().positive(),
  captured: z.string().default(''),
  kernel: z.string().default(''),
  arch: z.string().default(''),
  capturedBy: z.string().default('unknown'),
});

const errorsSchema = z.array(
  z.object({
    probe: z.string(),
    command: z.string().default(''),
    exitCode: z.number().nullable().default(null),
    stderr: z.string().default(''),
  }),
);

/** Files larger than this are not snapshot probes; refuse them instead of filling memory. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

export async function loadSnapshot(dir: string): Promise<Snapshot> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new InputError(`snapshot directory ${dir} does not exist`, 'pass the directory written by `initrd-wizard snapshot --output DIR`');
  }
  if (!info.isDirectory()) {
    throw new InputError(`${dir} is not a directory`, 'pass the directory written by `initrd-wizard snapshot --output DIR`');
  }
  const metaPath = path.join(dir, 'snapshot.json');
  let metaText: string;
  try {
    metaText = await readFile(metaPath, 'utf8');
  } catch {
    throw new InputError(`${metaPath} is missing: ${dir} is not a snapshot`, 'capture one with `initrd-wizard snapshot --output DIR`');
  }
  let metaJson: unknown;
  try {
    metaJson = JSON.parse(metaText);
  } catch (err) {
    throw new InputError(`${metaPath} is not valid JSON (${describeUnknown(err)})`, 'capture the snapshot again');
  }
  const metaResult = metaSchema.safeParse(metaJson);
  if (!metaResult.success) {
    const issue = metaResult.error.issues[0];
    throw new InputError(
      `${metaPath} is not a snapshot header: ${issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'invalid'}`,
      'capture the snapshot again',
    );
  }
  const meta = metaResult.data;
  const warnings: string[] = [];
  if (meta.format > SNAPSHOT_FORMAT) {
    warnings.push(`snapshot format ${meta.format} is newer than this tool's (${SNAPSHOT_FORMAT}): reading the files it knows`);
  }
  const files = new Map<string, string>();
  for (const rel of await listFiles(dir)) {
    if (rel === 'snapshot.json') continue;
    const full = path.join(dir, rel);
    try {
      const s = await stat(full);
      if (s.size > MAX_FILE_BYTES) {
        warnings.push(`${full}: ${s.size} bytes is too large for a probe output, ignored`);
        continue;
      }
      files.set(rel, await readFile(full, 'utf8'));
    } catch (err) {
      warnings.push(`${full}: unreadable (${describeUnknown(err)}), ignored`);
    }
  }
  let errors: ProbeError[] = [];
  const errorsText = files.get('errors.json');
  if (errorsText !== undefined) {
    try {
      const r = errorsSchema.safeParse(JSON.parse(errorsText));
      if (r.success) errors = r.data;
      else warnings.push(`${path.join(dir, 'errors.json')}: not a list of probe errors, ignored`);
    } catch {
      warnings.push(`${path.join(dir, 'errors.json')}: not valid JSON, ignored`);
    }
  }
  return { dir, meta, files, errors, warnings };
}

/**
 * Writes a snapshot directory. Files go into a sibling temp directory first and
 * the directory is renamed into place, so an interrupted write never leaves a
 * half snapshot behind under the requested name.
 */
export async function writeSnapshot(snapshot: Snapshot, dir: string): Promise<void> {
  const target = path.resolve(dir);
  const existing = await stat(target).catch(() => null);
  if (existing) {
    if (!existing.isDirectory()) throw new InputError(`${target} exists and is not a directory`, 'choose another --output');
    if ((await readdir(target)).length > 0) {
      throw new InputError(`${target} exists and is not empty`, 'choose a new directory for --output, or remove it first');
    }
  }
  const tmp = `${target}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true, mode: 0o755 });
  try {
    await writeFile(path.join(tmp, 'snapshot.json'), JSON.stringify(snapshot.meta, null, 2) + '\n');
    for (const [rel, content] of snapshot.files) {
      if (rel === 'errors.json') continue;
      const full = path.join(tmp, rel);
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, content);
    }
    await writeFile(path.join(tmp, 'errors.json'), JSON.stringify(snapshot.errors, null, 2) + '\n');
    if (existing) await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
