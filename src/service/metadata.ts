/** Where package metadata comes from when no --repo is given: the host's own package manager. */
import { WizardError } from '../errors.js';
import { detectDnf } from '../packages/dnf.js';
import type { MetadataSpec } from '../packages/metadata.js';
import type { Runner } from '../system/run.js';

/** The host's own package metadata for a distribution family: apt, or dnf's view of the enabled repositories. */
export async function hostMetadataSpec(family: string, runner: Runner): Promise<MetadataSpec> {
  if (family === 'debian') return { kind: 'apt' };
  if (family === 'fedora') {
    const dnf = await detectDnf(runner);
    if (!dnf) throw new WizardError('neither dnf5 nor dnf is installed, so the host repositories cannot be read', { hint: 'install dnf5 (or dnf), or pass --repo NAME=PATH with an rpm-md repository' });
    return { kind: 'dnf', flavor: dnf.flavor, command: dnf.command };
  }
  throw new WizardError(`reading ${family} repositories is not supported yet`, { hint: 'pass --repo NAME=PATH with an rpm-md repository, or --distro fedora|debian' });
}
