/** Worker thread: reads repository metadata and writes the pool cache, so the UI thread stays responsive. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPool, type MetadataSpec } from './metadata.js';
import { systemRunner } from '../system/run.js';

const { spec, cacheDir } = workerData as { spec: MetadataSpec; cacheDir: string };
loadPool(spec, { runner: systemRunner, cacheDir }).then(
  (r) => parentPort!.postMessage({ ok: true, cache: r.cache }),
  (err: unknown) => parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
);
