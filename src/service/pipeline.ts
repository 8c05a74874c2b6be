/** The steps every building and installing face shares: host facts, variant, mkosi, kernel. */
import os from 'node:os';
import { analyze } from '../host/analyze.js';
import type { HostReport } from '../host/report.js';
import { hostFs, type HostFs } from '../system/files.js';
import { systemRunner, type Runner } from '../system/run.js';
import { distroFromOsRelease, type Distro } from '../variant/distro.js';
import { loadProfiles } from '../variant/profiles.js';
import { suggest, type Variant } from '../variant/suggest.js';
import { detectMkosi, type MkosiInfo } from '../mkosi/version.js';
import { InputError } from '../errors.js';
import { obtainSnapshot, resolveArch, resolveDistro } from './host.js';

export interface PipelineFlags {
  snapshot?: string;
  distro?: string;
  kernelVersion?: string;
  /** --arch: the target machine in any spelling (default: the snapshot's, else this machine's). */
  arch?: string;
  runner?: Runner;
  fs?: HostFs;
}

export interface PipelineState {
  report: HostReport;
  /** The host's own files as the snapshot recorded them (crypttab …), when analysing a snapshot. */
  snapshotFiles: Map<string, string> | null;
  variant: Variant;
  distro: Distro;
  /** The target machine as uname -m names it: the package metadata is read for it. */
  arch: string;
  kernelVersion: string;
  runner: Runner;
  fs: HostFs;
}

/** The distribution of the machine the build runs on: its package manager builds the image. */
export async function buildHostDistro(fs: HostFs): Promise<Distro | null> {
  const text = (await fs.read('/etc/os-release').catch(() => null)) ?? (await fs.read('/usr/lib/os-release').catch(() => null));
  if (!text) return null;
  // The same validation as a snapshot's: VERSION_ID later reaches the drop-in's header.
  return distroFromOsRelease(text).distro;
}

export async function pipeline(flags: PipelineFlags): Promise<PipelineState> {
  const runner = flags.runner ?? systemRunner;
  const fs = flags.fs ?? hostFs('/');
  // A misspelt --arch is said before the host is read.
  if (flags.arch !== undefined) resolveArch(null, flags.arch);
  const { snapshot } = await obtainSnapshot({ snapshot: flags.snapshot, runner });
  const report = analyze(snapshot);
  // With a snapshot from another machine, package names still follow the machine that builds.
  const distro = flags.distro ? resolveDistro(report, flags.distro) : ((await buildHostDistro(fs)) ?? resolveDistro(report));
  const arch = resolveArch(report, flags.arch);
  const variant = suggest(report, await loadProfiles(), { distro });
  const kernelVersion = flags.kernelVersion ?? (flags.snapshot ? report.host.kernel || os.release() : os.release());
  if (!/^[A-Za-z0-9._+~-]+$/.test(kernelVersion)) throw new InputError(`"${kernelVersion}" is not a kernel version`, 'pass --kernel-version as printed by `uname -r` or listed in /usr/lib/modules');
  return { report, snapshotFiles: flags.snapshot ? snapshot.files : null, variant, distro, arch, kernelVersion, runner, fs };
}

/** The crypttab to carry into the image: the snapshot's when analysing one (it describes the host), else the root's. */
export async function hostCrypttab(state: Pick<PipelineState, 'snapshotFiles' | 'fs'>): Promise<string | null> {
  if (state.snapshotFiles) return state.snapshotFiles.get('crypttab') ?? null;
  return state.fs.read('/etc/crypttab').catch(() => null);
}

export async function mkosiInfo(state: Pick<PipelineState, 'runner' | 'fs'>): Promise<MkosiInfo | null> {
  return detectMkosi(state.runner, async (p) => (await state.fs.stat(p).catch(() => null)) !== null);
}
