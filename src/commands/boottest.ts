import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { WizardError } from '../errors.js';
import { bootTest, makeBootDisk, pickAccel, shapeFromReport, withTempDir } from '../image/boottest.js';
import type { CommandResult } from './context.js';
import { kernelImage, pipeline, type PipelineFlags } from './pipeline.js';
import { buildCommand, type BuildFlags } from './build.js';

export interface BootTestFlags extends PipelineFlags, Pick<BuildFlags, 'env' | 'ignorePreflight' | 'onStage' | 'signal' | 'slim'> {
  image?: string;
  /** Negative control: boot a LUKS disk without passing the passphrase. */
  withoutCredential?: boolean;
  timeoutMs?: number;
  log?: string;
}

export async function bootTestCommand(flags: BootTestFlags): Promise<CommandResult> {
  const state = await pipeline(flags);
  const kernel = await kernelImage(state.fs, state.kernelVersion);
  if (!kernel) throw new WizardError(`no kernel image for ${state.kernelVersion} (looked in /usr/lib/modules/${state.kernelVersion}/vmlinuz and /boot/vmlinuz-${state.kernelVersion})`, 1, 'install the kernel, or pass --kernel-version for one that is installed');
  let image = flags.image ? path.resolve(flags.image) : null;
  let tmpBuild: string | null = null;
  try {
    if (!image) {
      tmpBuild = await mkdtemp(path.join(os.tmpdir(), 'initrd-wizard-bt-'));
      image = path.join(tmpBuild, 'initrd.cpio.zst');
      const built = await buildCommand({ ...flags, output: image });
      if (built.exitCode !== 0) throw new WizardError('the built image failed its checks; not booting it', 1, 'run `initrd-wizard build` to see which');
    }
    const shape = shapeFromReport(state.report);
    const accel = await pickAccel(state.runner, kernel);
    const result = await withTempDir(async (dir) => {
      const disk = await makeBootDisk(state.runner, dir, shape);
      return bootTest({ runner: state.runner, kernel, initrd: image!, disk, accel, withoutCredential: flags.withoutCredential, timeoutMs: flags.timeoutMs, logFile: flags.log ? path.resolve(flags.log) : undefined, signal: flags.signal });
    });
    const what = `${shape.lvm ? 'LVM ' : ''}${shape.luks ? 'LUKS2 ' : ''}${shape.fstype}`.trim();
    const verdict = result.ok
      ? `PASS: ${image} booted ${what} root to the marker init (${accel}, ${(result.durationMs / 1000).toFixed(0)} s)`
      : `FAIL: ${image} did not reach the root's init (${result.askedPassphrase ? 'it waited for a passphrase' : result.switchedRoot ? 'switch-root happened but the marker never printed' : result.reachedInitrd ? 'it reached the initrd but not the root' : 'it never reached initrd.target'})`;
    return {
      json: { ok: result.ok, image, kernel, kernelVersion: state.kernelVersion, accel, shape, reachedInitrd: result.reachedInitrd, switchedRoot: result.switchedRoot, askedPassphrase: result.askedPassphrase, durationMs: Math.round(result.durationMs), log: result.log },
      text: [verdict, ...shape.notes.map((n) => `note: ${n}`), ...(result.ok ? [] : ['', 'Serial console (last lines):', result.log])].join('\n'),
      exitCode: result.ok ? 0 : 1,
    };
  } finally {
    if (tmpBuild) await rm(tmpBuild, { recursive: true, force: true });
  }
}
