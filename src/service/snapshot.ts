/** Capturing this host into a snapshot directory: the snapshot command and the wizard's s both call it. */
import path from 'node:path';
import { captureHost } from '../host/capture.js';
import { snapshotDirName, writeSnapshot, type Snapshot } from '../host/snapshot.js';
import { systemRunner, type Runner } from '../system/run.js';

export interface SavedSnapshot {
  dir: string;
  snapshot: Snapshot;
  /** What a normal user could not capture. */
  missed: string[];
}

export async function saveHostSnapshot(output: string | undefined, runner: Runner = systemRunner): Promise<SavedSnapshot> {
  const dir = path.resolve(output ?? snapshotDirName());
  const { snapshot, missed } = await captureHost({ runner });
  await writeSnapshot(snapshot, dir);
  return { dir, snapshot, missed };
}
