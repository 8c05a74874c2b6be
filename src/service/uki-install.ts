/** The layout=uki facts install and the wizard's Review both plan from. */
import { hostFs } from '../system/files.js';
import type { MkosiInfo } from '../mkosi/version.js';
import { pickUkiGenerator, type UkiGenerator } from '../uki/generator.js';
import { ukiFacts, ukiSpace, type UkiFacts } from '../install/uki.js';
import { detectUkiToolchain } from '../uki/detect.js';
import type { PipelineState } from './pipeline.js';

/**
 * What layout=uki needs from this root and this system: the generator, the
 * command line, signing, $BOOT, and every reason it cannot work. install and
 * the wizard's Review both plan from this.
 */
export async function ukiInstallFacts(state: PipelineState, rootDir: string, mk: MkosiInfo | null, opts: { ukiGenerator?: UkiGenerator; regenerate?: boolean; builtImage: string | null }): Promise<UkiFacts> {
  const uki = await ukiFacts({ fs: state.fs, runner: state.runner, rooted: rootDir !== '/', mkosiMajor: mk?.major ?? null, family: state.distro.family, codename: state.distro.codename, wanted: opts.ukiGenerator, snapshotCmdline: state.snapshotFiles?.get('cmdline') ?? null, kver: state.kernelVersion });
  if (opts.regenerate && rootDir !== '/' && uki.generator) {
    // For another root, this system's kernel-install runs the root's 60-ukify.install, which loads this system's ukify and stub.
    const here = await detectUkiToolchain(state.runner, hostFs('/'), { mkosiMajor: mk?.major ?? null, family: state.distro.family, codename: state.distro.codename });
    const c = pickUkiGenerator(here, uki.generator);
    if (!c.ok) uki.problems.push(...c.problems.map((p) => `--regenerate with --root runs this system's kernel-install, ukify and stub, not the root's: ${p.detail}${p.fix ? ` (fix: ${p.fix}, or run install --regenerate inside the root)` : ''}`));
  }
  if (uki.generator) {
    const space = await ukiSpace(state.fs, uki.boot, state.kernelVersion, opts.builtImage);
    uki.notes.push(space.note);
    if (space.problem) uki.problems.push(space.problem);
  }
  return uki;
}
