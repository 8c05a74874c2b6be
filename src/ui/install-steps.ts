/** Review and apply for the TUI: the install command's steps, with the reviewed diff as the contract. */
import { commandLine } from '../paths.js';
import { WizardError } from '../errors.js';
import { Root } from '../install/fsops.js';
import { fallbackLine, planDiff, planInstall, type PlanInput } from '../install/plan.js';
import { Transaction } from '../install/transaction.js';
import type { AppliedInstall, ReviewPlan } from './services.js';

export type PlanArgs = Omit<PlanInput, 'root'>;

export async function reviewInstall(rootDir: string, args: PlanArgs): Promise<ReviewPlan> {
  const root = new Root(rootDir);
  const plan = await planInstall({ ...args, root });
  return { plan, diff: await planDiff(root, plan), root: rootDir };
}

export async function applyReviewed(review: ReviewPlan, args: PlanArgs): Promise<AppliedInstall> {
  const root = new Root(review.root);
  const tx = new Transaction(root);
  const release = await tx.lock();
  try {
    const recovered = await tx.recover();
    // Planned again under the lock: what is applied is exactly what was reviewed, or nothing.
    const plan = await planInstall({ ...args, root });
    if ((await planDiff(root, plan)) !== review.diff) {
      throw new WizardError('the files changed since you reviewed the diff: nothing was applied', { hint: 'go back to Review to see the new diff, then confirm again' });
    }
    if (plan.changes.length) await tx.apply(plan);
    return {
      changed: plan.changes.map((c) => c.path),
      notes: [...(recovered ? [recovered] : []), ...plan.notes],
      root: review.root,
      revertCommand: commandLine('revert', ...(review.root !== '/' ? ['--root', review.root] : [])),
      fallback: fallbackLine(plan.generators),
      layout: args.layout,
      ...(args.uki?.boot ? { bootDir: args.uki.boot.dir } : {}),
    };
  } finally {
    await tx.cleanup(release);
  }
}
