import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { WizardError } from '../errors.js';
import { checkImage, type ImageCheck } from '../image/checks.js';
import { readInitrd } from '../image/cpio.js';
import { currentInitrdCandidates, summarizeImage, type ImageReport } from '../image/report.js';
import { buildInitrd, buildPreflight, type Preflight } from '../mkosi/build.js';
import { mkosiTooOld } from '../mkosi/version.js';
import { configKey, saveRecord } from '../mkosi/records.js';
import type { HostReport } from '../host/report.js';
import type { CommandResult } from './context.js';
import { formatBytes } from './format.js';
import { kernelImage, mkosiInfo, pipeline, type PipelineFlags } from './pipeline.js';
import { comparePreview, packagesFromLog } from '../mkosi/buildlog.js';
import { hostConfig } from './variant-config.js';
import type { HostFs } from '../system/files.js';
import type { Variant } from '../variant/suggest.js';

export interface BuildFlags extends PipelineFlags {
  output?: string;
  slim?: boolean;
  log?: string;
  signal?: AbortSignal;
  onStage?: (stage: string, elapsedMs: number) => void;
  /** Every line of mkosi-initrd's output, as it comes. */
  onLine?: (line: string) => void;
  env?: Record<string, string>;
  /** Build this variant instead of the suggested one (the TUI's tweaked variant). */
  variant?: Variant;
  /** Skip preflight items. */
  ignorePreflight?: string[];
  /** No host-specific modules (see BuildOptions.modules). */
  generic?: boolean;
  /** cpio (default): the initrd kernel-install's mkosi plugin builds; uki: that initrd in a unified kernel image. */
  format?: 'cpio' | 'uki';
}

export interface VerifiedImage {
  path: string;
  image: ImageReport;
  checks: ImageCheck[];
  ok: boolean;
  current: { path: string; size: number } | null;
}

export async function verifyImage(file: string, report: HostReport, fs: HostFs, kver: string): Promise<VerifiedImage> {
  const raw = await readFile(file);
  const image = await readInitrd(raw, file);
  const { checks, index } = checkImage(image, report);
  const summary = summarizeImage(image, index, raw.length);
  if (!summary.kernelVersions.includes(kver)) {
    checks.push({ id: 'kernel-version', ok: false, detail: `the image has modules for ${summary.kernelVersions.join(', ') || 'no kernel'}, not ${kver}` });
  }
  const machineId = (await fs.read('/etc/machine-id').catch(() => null))?.trim() || null;
  let current: VerifiedImage['current'] = null;
  for (const c of currentInitrdCandidates(kver, machineId)) {
    const s = await fs.stat(c).catch(() => null);
    if (s?.isFile()) {
      current = { path: c, size: s.size };
      break;
    }
  }
  return { path: file, image: summary, checks, ok: checks.every((c) => c.ok), current };
}

export function formatVerified(v: VerifiedImage): string[] {
  const out: string[] = [];
  const i = v.image;
  out.push(`Image ${v.path}: ${formatBytes(i.compressedSize)} compressed, ${formatBytes(i.unpackedSize)} unpacked, ${i.files} files, ${i.modules} modules`);
  if (v.current) out.push(`Current initrd ${v.current.path}: ${formatBytes(v.current.size)} (new/current ${(i.compressedSize / v.current.size).toFixed(2)}×)`);
  out.push('Largest directories: ' + i.largest.slice(0, 5).map((l) => `${l.path} ${formatBytes(l.size)}`).join(', '));
  out.push('');
  out.push('Checks:');
  for (const c of v.checks) out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.id.padEnd(20)} ${c.detail}`);
  return out;
}

export function preflightError(failed: Preflight[]): WizardError {
  return new WizardError(
    `cannot build yet:\n${failed.map((p) => `  - ${p.detail}${p.fix ? `\n    fix: ${p.fix}` : ''}`).join('\n')}`,
    1,
    failed.length === 1 ? failed[0]!.fix : 'fix the items above, then build again (`initrd-wizard doctor` lists every prerequisite)',
  );
}

const MODULES_TEXT = {
  generic: "Modules: generic (mkosi-initrd's default list and the storage stack's).",
  snapshot: "Modules: the snapshot's loaded modules (the target machine's), not this machine's.",
  'snapshot-without-modules': "Modules: the snapshot has no module list; only mkosi-initrd's default list and the storage stack's.",
};

export async function buildCommand(flags: BuildFlags): Promise<CommandResult> {
  const suggested = await pipeline(flags);
  const state = flags.variant ? { ...suggested, variant: flags.variant } : suggested;
  const mk = await mkosiInfo(state);
  if (!mk || mk.major < 24 || !mk.hasInitrd) throw mkosiTooOld(mk?.version ?? null, state.distro.id, state.distro.version);
  const preflight = await buildPreflight({
    fs: state.fs,
    kernelVersion: state.kernelVersion,
    uid: process.getuid?.() ?? 0,
    mkosiVersion: mk.version,
    mkosiMajor: mk.major,
    hasInitrd: mk.hasInitrd,
    family: state.distro.family,
    liveModules: !flags.generic && !state.snapshotFiles,
  });
  const failed = preflight.filter((p) => !p.ok && !(flags.ignorePreflight ?? []).includes(p.id));
  if (failed.length) throw preflightError(failed);
  const { config, set: previewSet, warnings: previewWarnings } = await hostConfig(state, mk, async (f) => (await state.fs.stat(f).catch(() => null)) !== null, { slim: flags.slim });
  const output = path.resolve(flags.output ?? `initrd-${state.kernelVersion}${flags.slim ? '-slim' : ''}${flags.generic ? '-generic' : ''}.cpio.zst`);
  const log = path.resolve(flags.log ?? `${output}.log`);
  const started = performance.now();
  const targetModules = state.snapshotFiles?.get('modules');
  const moduleSource = flags.generic ? 'generic' : state.snapshotFiles ? (targetModules ? 'snapshot' : 'snapshot-without-modules') : 'live';
  const built = await buildInitrd({
    runner: state.runner,
    kernelVersion: state.kernelVersion,
    config,
    output,
    logFile: log,
    signal: flags.signal,
    env: flags.env,
    mkosiMajor: mk.major,
    // For a snapshot, the image is for that machine: its loaded modules, not this one's.
    modules: moduleSource === 'generic' || moduleSource === 'live' ? moduleSource : { procModules: targetModules ?? '' },
    kernelImage: await kernelImage(state.fs, state.kernelVersion),
    onStage: (s) => flags.onStage?.(s, performance.now() - started),
    onLine: flags.onLine,
  });
  const builtPackages = packagesFromLog(await readFile(log, 'utf8'), state.distro.family);
  const comparison = previewSet && builtPackages ? comparePreview(previewSet.closure.packages.map((p) => p.name), builtPackages) : null;
  const verified = await verifyImage(output, state.report, state.fs, state.kernelVersion);
  // Without --slim the image is what install's configuration builds: remember the verdict for install.
  if (!flags.slim) {
    await saveRecord({ key: configKey(config), kernelVersion: state.kernelVersion, output, ok: verified.ok, failed: verified.checks.filter((c) => !c.ok).map((c) => c.id), at: new Date().toISOString() }).catch(() => undefined);
  }
  const json = {
    kernelVersion: state.kernelVersion,
    output,
    log,
    durationMs: Math.round(built.durationMs),
    slim: Boolean(flags.slim),
    profiles: state.variant.profiles,
    preflight,
    image: verified.image,
    current: verified.current,
    checks: verified.checks,
    ok: verified.ok,
    mkosiVersion: mk.version,
    modules: moduleSource,
    packages: comparison,
    notes: config.notes,
    warnings: previewWarnings,
  };
  const previewLine = comparison
    ? comparison.equal
      ? `Packages: the build installed the ${comparison.built} packages the preview showed.`
      : `Packages: the preview showed ${comparison.previewed}, the build installed ${comparison.built}; only previewed: ${comparison.onlyPreviewed.join(' ') || '-'}; only built: ${comparison.onlyBuilt.join(' ') || '-'}`
    : 'Packages: the preview could not be compared with the build (package metadata or the build log unreadable).';
  return {
    json,
    text: [
      `Built ${output} for ${state.kernelVersion} with mkosi ${mk.version} in ${(built.durationMs / 1000).toFixed(0)} s (log: ${log})`,
      ...(state.snapshotFiles && moduleSource !== 'live' ? [MODULES_TEXT[moduleSource]] : []),
      previewLine,
      ...config.notes.map((n) => `Note: ${n}`),
      ...formatVerified(verified),
      '',
      verified.ok ? 'All checks passed.' : 'Some checks FAILED: this image may not boot this host.',
    ].join('\n'),
    exitCode: verified.ok ? 0 : 1,
  };
}
