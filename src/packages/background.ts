/**
 * loadPool without freezing an interactive screen: a cold load parses tens of
 * megabytes of XML for a second or more, so a worker thread does it and fills
 * the cache; this thread then reads the cache (about 100 ms). Without a cache
 * directory, or when the worker cannot start, it simply loads here.
 */
import type { Worker } from 'node:worker_threads';
import { WizardError } from '../errors.js';
import { startWorker } from '../workers.js';
import { defaultCacheDir, loadPool, type LoadedPool, type LoadPoolOptions, type MetadataSpec } from './metadata.js';

const running = new Set<Worker>();
let stopped = false;

/** Ends metadata loads still running (the user quit before they finished); none falls back to loading here. */
export function stopBackgroundLoads(): void {
  stopped = true;
  for (const w of running) void w.terminate();
  running.clear();
}

function warm(spec: MetadataSpec, cacheDir: string, arch: string | undefined): Promise<boolean> {
  const worker = startWorker('pool-worker', { spec, cacheDir, arch });
  if (!worker) return Promise.resolve(false);
  return new Promise((resolve) => {
    // Quitting the program must not wait for a metadata load nobody needs any more.
    worker.unref();
    running.add(worker);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      running.delete(worker);
      void worker.terminate();
      resolve(ok);
    };
    worker.once('message', (m: { ok: boolean }) => finish(m.ok));
    worker.once('error', () => finish(false));
    worker.once('exit', () => finish(false));
  });
}

export async function loadPoolInBackground(spec: MetadataSpec, options: LoadPoolOptions): Promise<LoadedPool> {
  const dir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  // Errors (unreadable repository …) come from the load on this thread, with their usual messages.
  // The worker fills the cache entry of the same key: same spec, same architecture.
  if (dir) await warm(spec, dir, options.arch);
  if (stopped) throw new WizardError('the package metadata load was stopped');
  return loadPool(spec, { ...options, cacheDir: dir });
}
