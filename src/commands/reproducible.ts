import { WizardError } from '../errors.js';
import type { CommandResult } from './context.js';
import type { BuildFlags } from './build.js';

/** Builds the variant twice and compares the two images member by member. */
export async function reproducibleCommand(_flags: BuildFlags): Promise<CommandResult> {
  throw new WizardError('--check-reproducible is being written in this change', 1);
}
