import path from 'node:path';
import { WizardError } from '../errors.js';
import { Root } from '../install/fsops.js';
import { STATE_DIR, Transaction } from '../install/transaction.js';
import type { CommandResult } from './context.js';

export interface RevertFlags {
  root?: string;
  force?: boolean;
}

export async function revertCommand(flags: RevertFlags): Promise<CommandResult> {
  const rootDir = path.resolve(flags.root ?? '/');
  const root = new Root(rootDir);
  const tx = new Transaction(root);
  // Nothing on record: say so without creating the state directory (or /var/lib) just to lock it.
  if (!(await tx.hasJournal()) && !(await tx.hasStateDir())) {
    throw new WizardError('nothing to revert: initrd-wizard has no install on record here', 1, `no ${root.show(`${STATE_DIR}/journal.json`)}`);
  }
  const release = await tx.lock();
  try {
    const recovered = await tx.recover();
    if (!(await tx.status())) throw new WizardError('nothing to revert: initrd-wizard has no install on record here', 1, `no ${root.show(`${STATE_DIR}/journal.json`)}`);
    if (recovered && !(await tx.status())) {
      return { json: { root: rootDir, recovered, restored: [] }, text: `${recovered}.`, exitCode: 0 };
    }
    const { restored } = await tx.revert(Boolean(flags.force));
    return {
      json: { root: rootDir, recovered, restored },
      text: [...(recovered ? [`note: ${recovered}`] : []), `Reverted: ${restored.join(', ')} are as they were before the install; kernel-install uses the previous initrd generator again.`].join('\n'),
      exitCode: 0,
    };
  } finally {
    await tx.cleanup(release);
  }
}
