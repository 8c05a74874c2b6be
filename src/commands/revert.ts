import path from 'node:path';
import { Root } from '../install/fsops.js';
import { Transaction } from '../install/transaction.js';
import type { CommandResult } from './context.js';

export interface RevertFlags {
  root?: string;
  force?: boolean;
}

export async function revertCommand(flags: RevertFlags): Promise<CommandResult> {
  const rootDir = path.resolve(flags.root ?? '/');
  const tx = new Transaction(new Root(rootDir));
  const release = await tx.lock();
  try {
    const recovered = await tx.recover();
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
