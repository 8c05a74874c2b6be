import type { Runner } from '../system/run.js';
import { commandLine } from '../paths.js';
import { saveHostSnapshot } from '../service/snapshot.js';
import type { CommandResult } from './result.js';

export interface SnapshotFlags {
  output?: string;
  runner?: Runner;
}

export async function snapshotCommand(flags: SnapshotFlags): Promise<CommandResult> {
  const { dir, snapshot, missed } = await saveHostSnapshot(flags.output, flags.runner);
  const files = [...snapshot.files.keys()].length + 2;
  return {
    json: { output: dir, files, errors: snapshot.errors, missed, meta: snapshot.meta },
    text: [
      `Snapshot written to ${dir} (${files} files).`,
      ...(missed.length ? ['', 'Not captured:', ...missed.map((m) => `  - ${m}`)] : []),
      '',
      `Analyse it with: ${commandLine('detect', '--snapshot', dir)}`,
      'It holds no keys or passphrases; attach it to bug reports.',
    ].join('\n'),
    exitCode: 0,
  };
}
