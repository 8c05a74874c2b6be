import path from 'node:path';
import { captureHost } from '../host/capture.js';
import { snapshotDirName, writeSnapshot } from '../host/snapshot.js';
import { systemRunner, type Runner } from '../system/run.js';
import type { CommandResult } from './context.js';

export interface SnapshotFlags {
  output?: string;
  runner?: Runner;
}

export async function snapshotCommand(flags: SnapshotFlags): Promise<CommandResult> {
  const dir = path.resolve(flags.output ?? snapshotDirName());
  const { snapshot, missed } = await captureHost({ runner: flags.runner ?? systemRunner });
  await writeSnapshot(snapshot, dir);
  const files = [...snapshot.files.keys()].length + 2;
  return {
    json: { output: dir, files, errors: snapshot.errors, missed, meta: snapshot.meta },
    text: [
      `Snapshot written to ${dir} (${files} files).`,
      ...(missed.length ? ['', 'Not captured:', ...missed.map((m) => `  - ${m}`)] : []),
      '',
      `Analyse it with: initrd-wizard detect --snapshot ${dir}`,
      'It holds no keys or passphrases; attach it to bug reports.',
    ].join('\n'),
    exitCode: 0,
  };
}
