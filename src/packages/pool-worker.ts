/** Worker thread: reads repository metadata and writes the pool cache, so the UI thread stays responsive. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPool, type MetadataSpec } from './metadata.js';
import { systemRunner } from '../system/run.js';

const { spec, cacheDir, arch } = workerData as { spec: MetadataSpec; cacheDir: string; arch?: string };
loadPool(spec, { runner: systemRunner, cacheDir, arch }).then(
  (r) => parentPort!.postMessage({ ok: true, cache: r.cache }),
  (err: unknown) => parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
);
