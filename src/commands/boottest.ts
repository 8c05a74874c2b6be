import path from 'node:path';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { InputError, WizardError } from '../errors.js';
import { bootTest, makeBootDisk, pickAccel, shapeFromReport, withTempDir, type BootResult, type DiskShape } from '../image/boottest.js';
import { findSection, readPe, sectionData } from '../image/pe.js';
import { findLoader, isPeFile } from '../image/uefi.js';
import type { CommandResult } from './result.js';
import { pipeline, type PipelineFlags } from '../service/pipeline.js';
import { kernelImage } from '../system/kernel.js';
import { buildImage, type BuildFlags } from '../service/build.js';
import { hostMachine } from '../packages/arch.js';

export interface BootTestFlags extends PipelineFlags, Pick<BuildFlags, 'env' | 'ignorePreflight' | 'onStage' | 'signal' | 'slim' | 'format'> {
  image?: string;
  /** systemd-bootx64.efi for UKIs (default: the host's, from systemd-boot-efi / systemd-boot-unsigned). */
  loader?: string;
  /** Negative control: boot a LUKS disk without passing the passphrase. */
  withoutCredential?: boolean;
  timeoutMs?: number;
  log?: string;
}

/** What a UKI's headers say before it is booted (the firmware is the judge of a damaged one, so this only informs), and its kernel. */
async function inspectUki(file: string): Promise<{ sections: string[]; problem: string | null; linux: Buffer | null }> {
  try {
    const buf = await readFile(file);
    const pe = readPe(buf, file);
    const sections = pe.sections.map((s) => s.name);
    const missing = ['.linux', '.initrd'].filter((n) => !findSection(pe, n));
    const linux = findSection(pe, '.linux');
    return { sections, problem: missing.length ? `no ${missing.join(' or ')} section: not a unified kernel image` : null, linux: linux ? sectionData(buf, linux) : null };
  } catch (err) {
    if (err instanceof InputError) return { sections: [], problem: err.message, linux: null };
    throw err;
  }
}

function verdictText(image: string, what: string, result: BootResult, accel: string): string {
  if (result.ok) return `PASS: ${image} booted ${what} root to the marker init (${result.firmware}, ${accel}, ${(result.durationMs / 1000).toFixed(0)} s)`;
  const why =
    result.failure ??
    (result.askedPassphrase ? 'it waited for a passphrase' : result.switchedRoot ? 'switch-root happened but the marker never printed' : result.reachedInitrd ? 'it reached the initrd but not the root' : 'it never reached initrd.target');
  return `FAIL: ${image} did not reach the root's init (${why})`;
}

export async function bootTestCommand(flags: BootTestFlags): Promise<CommandResult> {
  const state = await pipeline(flags);
  // The test disk's init is this machine's busybox: a guest of another architecture could not run it.
  if (state.arch !== hostMachine()) {
    throw new WizardError(`boot-test runs images of this machine's architecture (${hostMachine()}); the target is ${state.arch}${flags.snapshot ? ' (the snapshot\'s)' : ''}`, { hint: `run boot-test on a machine of that architecture` });
  }
  let image = flags.image ? path.resolve(flags.image) : null;
  let tmpBuild: string | null = null;
  try {
    if (!image) {
      tmpBuild = await mkdtemp(path.join(os.tmpdir(), 'initrd-wizard-bt-'));
      const uki = flags.format === 'uki';
      image = path.join(tmpBuild, uki ? 'initrd-wizard.efi' : 'initrd.cpio.zst');
      const built = await buildImage({ ...flags, output: image });
      if (!built.doc.ok) throw new WizardError('the built image failed its checks; not booting it', { hint: `run \`initrd-wizard build${uki ? ' --format uki' : ''}\` to see which` });
      if (uki && !(await isPeFile(image))) throw new WizardError(`the build wrote no unified kernel image to ${image}`, { hint: 'run `initrd-wizard build --format uki` to see why' });
    }
    const isUki = await isPeFile(image).catch((err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'it does not exist' : err.code === 'EISDIR' ? 'it is a directory' : (err.code ?? err.message);
      throw new InputError(`cannot read ${image}: ${why}`, 'pass --image with an initrd (cpio) or a unified kernel image (.efi)');
    });
    if (flags.format === 'uki' && !isUki) throw new InputError(`${image} is not a unified kernel image (no PE/MZ header)`, 'pass a .efi built by `initrd-wizard build --format uki`, ukify or mkosi, or leave out --format uki');
    const shape = shapeFromReport(state.report);
    const log = flags.log ? path.resolve(flags.log) : undefined;
    const common = { runner: state.runner, withoutCredential: flags.withoutCredential, timeoutMs: flags.timeoutMs, logFile: log, signal: flags.signal, machine: state.arch, family: state.distro.family };

    let result: BootResult;
    let accel: 'kvm' | 'tcg';
    let extra: Record<string, unknown> = {};
    const notes = [...shape.notes];
    if (isUki) {
      const loader = await findLoader(flags.loader, state.distro.family);
      const pe = await inspectUki(image);
      if (pe.problem) notes.push(`${pe.problem}; booting it anyway: the firmware decides`);
      const uki = image;
      let probed: 'kvm' | 'tcg' = process.env.INITRD_WIZARD_ACCEL === 'kvm' ? 'kvm' : 'tcg';
      result = await withTempDir(async (dir) => {
        // The probe for a working KVM boots a kernel: the UKI's own. Without a readable one, TCG.
        if (pe.linux) {
          await writeFile(path.join(dir, 'linux'), pe.linux);
          probed = await pickAccel(state.runner, path.join(dir, 'linux'), state.arch, state.distro.family);
        }
        return bootTest({ ...common, uki: { file: uki, loader, family: state.distro.family }, disk: await makeBootDisk(state.runner, dir, shape, state.arch), accel: probed });
      });
      accel = probed;
      extra = { loader, sections: pe.sections, peProblem: pe.problem, kernelCmdline: result.kernelCmdline };
    } else {
      const kernel = await kernelImage(state.fs, state.kernelVersion);
      if (!kernel) throw new WizardError(`no kernel image for ${state.kernelVersion} (looked in /usr/lib/modules/${state.kernelVersion}/vmlinuz and /boot/vmlinuz-${state.kernelVersion})`, { hint: 'install the kernel, or pass --kernel-version for one that is installed' });
      accel = await pickAccel(state.runner, kernel, state.arch, state.distro.family);
      const initrd = image;
      result = await withTempDir(async (dir) => bootTest({ ...common, kernel, initrd, disk: await makeBootDisk(state.runner, dir, shape, state.arch), accel }));
      extra = { kernel, kernelVersion: state.kernelVersion };
    }
    const what = describeShape(shape);
    return {
      json: {
        ok: result.ok,
        image,
        format: isUki ? 'uki' : 'cpio',
        firmware: result.firmware,
        via: result.via,
        ...extra,
        accel,
        shape,
        reachedInitrd: result.reachedInitrd,
        switchedRoot: result.switchedRoot,
        askedPassphrase: result.askedPassphrase,
        failure: result.failure,
        retried: result.retried ?? null,
        durationMs: Math.round(result.durationMs),
        log: result.log,
      },
      text: [
        verdictText(image, what, result, accel),
        `booted: ${result.via}`,
        ...(result.retried ? [`note: booted a second time: the first attempt ${result.retried.replace(/^the kernel/, 'ended as the kernel')}`] : []),
        ...notes.map((n) => `note: ${n}`),
        ...(result.ok ? [] : ['', 'Serial console (last lines):', result.log]),
      ].join('\n'),
      exitCode: result.ok ? 0 : 1,
    };
  } finally {
    if (tmpBuild) await rm(tmpBuild, { recursive: true, force: true });
  }
}

function describeShape(shape: DiskShape): string {
  return `${shape.lvm ? 'LVM ' : ''}${shape.luks ? 'LUKS2 ' : ''}${shape.fstype}`.trim();
}
