import path from 'node:path';
import { Root } from '../install/fsops.js';
import { STATE_DIR, Transaction } from '../install/transaction.js';
import type { CommandResult } from './result.js';

export interface RevertFlags {
  root?: string;
  force?: boolean;
}

export async function revertCommand(flags: RevertFlags): Promise<CommandResult> {
  const rootDir = path.resolve(flags.root ?? '/');
  const root = new Root(rootDir);
  const tx = new Transaction(root);
  // Nothing on record is what a revert wants to reach, so it is success: a second revert, or one with nothing installed.
  const nothing = (): CommandResult => ({
    json: { root: rootDir, recovered: null, restored: [] },
    text: `Nothing to revert under ${rootDir}: initrd-wizard has no install on record there (no ${root.show(`${STATE_DIR}/journal.json`)}).`,
    exitCode: 0,
  });
  // Nothing on record (the journal lives in the state directory): say so without creating it (or /var/lib) just to lock it.
  if (!(await tx.hasStateDir())) return nothing();
  const release = await tx.lock();
  try {
    const recovered = await tx.recover();
    if (!(await tx.status())) {
      // A recovered revert is this revert, done; a state directory without a journal is a killed run's lock, now swept.
      if (recovered) return { json: { root: rootDir, recovered, restored: [] }, text: `${recovered}.`, exitCode: 0 };
      return nothing();
    }
    const { restored } = await tx.revert(Boolean(flags.force));
    return {
      json: { root: rootDir, recovered, restored },
      text: [...(recovered ? [`note: ${recovered}`] : []), `Reverted: ${restored.join(', ')} are as they were before the install; kernel-install runs as it did before.`].join('\n'),
      exitCode: 0,
    };
  } finally {
    await tx.cleanup(release);
  }
}
