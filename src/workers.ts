/**
 * Starting a worker thread of this program. The bundle ships each worker as
 * dist/bin/NAME.js beside initrd-wizard.js; under tsx (tests) the sources run
 * directly, through a two-line bootstrap that registers tsx inside the thread
 * (a worker does not inherit the parent's loader). Null when the script is
 * missing, so callers do the work on their own thread instead.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { packageRoot } from './paths.js';

/** Each worker's source, relative to src/: the bundle's entry points are named after them (scripts/build.mjs). */
const SOURCES = { 'pool-worker': 'packages/pool-worker.ts', 'fleet-worker': 'service/fleet-worker.ts' } as const;

export type WorkerName = keyof typeof SOURCES;

/** Whether startWorker can start `name` here. */
export function canStartWorker(name: WorkerName): boolean {
  return fileURLToPath(import.meta.url).endsWith('.ts') || existsSync(path.join(packageRoot(), 'dist', 'bin', `${name}.js`));
}

export function startWorker(name: WorkerName, workerData: unknown, o: { resourceLimits?: ResourceLimits } = {}): Worker | null {
  if (!canStartWorker(name)) return null;
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new Worker(path.join(packageRoot(), 'dist', 'bin', `${name}.js`), { workerData, ...o });
  const source = JSON.stringify(path.join(path.dirname(here), SOURCES[name]));
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); });`, { eval: true, workerData, ...o });
}
