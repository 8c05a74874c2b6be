/** Building and checking an image: the service the build command and the wizard's Build screen both call. */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WizardError } from '../errors.js';
import { checkImage, type ImageCheck } from '../image/checks.js';
import { readInitrd } from '../image/cpio.js';
import { currentInitrdCandidates, summarizeImage, type ImageReport } from '../image/report.js';
import { buildInitrd, buildPreflight, type Preflight } from '../mkosi/build.js';
import { mkosiTooOld, mkosiUsable } from '../mkosi/version.js';
import { configKey, saveRecord } from '../mkosi/records.js';
import type { HostReport } from '../host/report.js';
import { mkosiInfo, pipeline, type PipelineFlags, type PipelineState } from './pipeline.js';
import { kernelImage } from '../system/kernel.js';
import { comparePreview, packagesFromLog, type PreviewComparison } from '../mkosi/buildlog.js';
import { hostConfig } from './variant-config.js';
import type { HostFs } from '../system/files.js';
import type { Variant } from '../variant/suggest.js';
import type { BlockGraph } from '../host/parse/lsblk.js';
import { looksLikePe } from '../image/pe.js';
import { formatArgv } from '../system/run.js';
import { detectUkiToolchain } from '../uki/detect.js';
import { configuredUkiGenerator, hostMicrocode, runUkify, storageGraph, ukiCmdline, ukiConf, ukiPreflight, type UkiCmdline } from '../uki/assemble.js';
import { pickUkiGenerator, ukiPrerequisites } from '../uki/generator.js';
import { cmdlineChecks, crypttabThroughCmdline, readUki, sectionCheck, type UkiSummary } from '../image/uki.js';
import { hostMachine } from '../packages/arch.js';

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
  format: 'cpio' | 'uki';
  /** The initrd: the file itself, or a UKI's .initrd section. */
  image: ImageReport;
  /** A UKI's sections, version and command line. */
  uki?: UkiSummary;
  checks: ImageCheck[];
  ok: boolean;
  current: { path: string; size: number } | null;
}

export interface VerifyOptions {
  /** The host's block devices, to resolve a UKI's root=/resume= (storageGraph). */
  graph?: BlockGraph | null;
}

const EMPTY_IMAGE: ImageReport = { compressedSize: 0, unpackedSize: 0, files: 0, modules: 0, kernelVersions: [], segments: [], largest: [] };

/** Checks a cpio initrd or, when the file is a PE image, a UKI: its sections, its embedded initrd, its command line. */
export async function verifyImage(file: string, report: HostReport, fs: HostFs, kver: string, opts: VerifyOptions = {}): Promise<VerifiedImage> {
  const raw = await readFile(file);
  const checks: ImageCheck[] = [];
  let summary = EMPTY_IMAGE;
  let uki: UkiSummary | undefined;
  if (looksLikePe(raw)) {
    const contents = readUki(raw, file);
    uki = contents.summary;
    const options = (uki.cmdline ?? '').split(/\s+/).filter(Boolean);
    checks.push(sectionCheck(uki));
    let crypttab: string | null = null;
    if (contents.initrd?.length) {
      const image = await readInitrd(contents.initrd, `${file} (.initrd section)`);
      crypttab = image.read('etc/crypttab')?.toString('utf8') ?? null;
      const r = checkImage(image, report);
      checks.push(...r.checks.map((c) => crypttabThroughCmdline(c, options, report, crypttab)));
      summary = summarizeImage(image, r.index, contents.initrd.length);
    }
    if (uki.uname !== null && uki.uname !== kver) checks.push({ id: 'uki-uname', ok: false, detail: `the UKI's .uname says ${uki.uname}, not ${kver}` });
    checks.push(...cmdlineChecks(options, report, opts.graph ?? null, crypttab));
  } else {
    const image = await readInitrd(raw, file);
    const r = checkImage(image, report);
    checks.push(...r.checks);
    summary = summarizeImage(image, r.index, raw.length);
  }
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
  return { path: file, format: uki ? 'uki' : 'cpio', image: summary, ...(uki ? { uki } : {}), checks, ok: checks.every((c) => c.ok), current };
}

export function preflightError(failed: Preflight[]): WizardError {
  return new WizardError(
    `cannot build yet:\n${failed.map((p) => `  - ${p.detail}${p.fix ? `\n    fix: ${p.fix}` : ''}`).join('\n')}`, { hint: failed.length === 1 ? failed[0]!.fix : 'fix the items above, then build again (`initrd-wizard doctor` lists every prerequisite)' },
  );
}

interface UkiPlan {
  generator: 'ukify';
  why: string;
  cmdline: UkiCmdline;
  ukify: string;
  stub: string;
  config: string | null;
  kernel: string;
}

async function planUki(state: PipelineState, mkMajor: number, preflight: Preflight[]): Promise<UkiPlan | null> {
  const tc = await detectUkiToolchain(state.runner, state.fs, { mkosiMajor: mkMajor, family: state.distro.family, codename: state.distro.codename });
  preflight.push(...ukiPreflight(tc));
  const wanted = await configuredUkiGenerator(state.fs);
  const choice = pickUkiGenerator(tc, wanted);
  // The prerequisites are already preflight lines; what is left is a generator refused for this mkosi.
  if (!choice.ok) for (const p of choice.problems.filter((p) => !ukiPrerequisites(tc).some((q) => q.detail === p.detail))) preflight.push({ id: 'uki-generator', ok: false, detail: p.detail, ...(p.fix ? { fix: p.fix } : {}) });
  const kernel = await kernelImage(state.fs, state.kernelVersion);
  preflight.push(kernel ? { id: 'uki-kernel', ok: true, detail: `kernel image ${kernel} goes into .linux` } : { id: 'uki-kernel', ok: false, detail: `no kernel image for ${state.kernelVersion} (/usr/lib/modules/${state.kernelVersion}/vmlinuz or /boot/vmlinuz-${state.kernelVersion}) to put into the UKI`, fix: `install the kernel package of ${state.kernelVersion}` });
  if (!choice.ok || !kernel || !tc.ukify || tc.ukifyBroken || !tc.stub) return null;
  return { generator: choice.generator, why: choice.why, cmdline: await ukiCmdline(state.fs, state.snapshotFiles), ukify: state.fs.resolve(tc.ukify), stub: state.fs.resolve(tc.stub), config: await ukiConf(state.fs).then((c) => (c ? state.fs.resolve(c) : null)), kernel };
}

/** A finished build: what `build --json` prints, and the verified image it describes. */
export interface BuildRun {
  doc: BuildDocument;
  verified: VerifiedImage;
  /** The host facts came from a snapshot (its modules, its command line). */
  fromSnapshot: boolean;
  /** The ukify that wrapped a UKI, or null. */
  ukify: string | null;
}

/** What `build --json` prints (docs/cli-contract.md). */
export interface BuildDocument {
  format: 'cpio' | 'uki';
  kernelVersion: string;
  output: string;
  log: string;
  durationMs: number;
  slim: boolean;
  profiles: string[];
  preflight: Preflight[];
  image: ImageReport;
  uki?: {
    generator: string;
    why: string;
    cmdline: string;
    cmdlineSource: string;
    cmdlineFromSnapshot: boolean;
    stub: string;
    config: string | null;
    microcode: { vendor: string | null; source: string | null; why?: string } | null;
    arch: UkiSummary['arch'];
    uname: UkiSummary['uname'];
    osRelease: UkiSummary['osRelease'];
    sections: UkiSummary['sections'];
  };
  current: VerifiedImage['current'];
  checks: ImageCheck[];
  ok: boolean;
  mkosiVersion: string;
  /** Whose modules the image keeps: this machine's loaded ones, the snapshot's, or mkosi-initrd's generic list. */
  modules: 'live' | 'generic' | 'snapshot' | 'snapshot-without-modules';
  /** The packages the build installed against the preview, or null when either could not be read. */
  packages: PreviewComparison | null;
  notes: string[];
  warnings: string[];
}

/** Builds the variant with mkosi-initrd (and ukify for a UKI), then reads and checks the image: no printing, no exit codes. */
export async function buildImage(flags: BuildFlags): Promise<BuildRun> {
  const format = flags.format ?? 'cpio';
  const suggested = await pipeline(flags);
  const state = flags.variant ? { ...suggested, variant: flags.variant } : suggested;
  // mkosi-initrd installs this machine's packages with this machine's package manager: it has no other target.
  if (state.arch !== hostMachine()) {
    throw new WizardError(
      `mkosi-initrd builds for the machine it runs on (${hostMachine()}); the target is ${state.arch}${flags.arch === undefined && flags.snapshot ? ' (the snapshot\'s)' : ''}`, { hint: `build on a machine of that architecture; \`initrd-wizard closure --arch ${state.arch}\` previews its packages from here` },
    );
  }
  const mk = await mkosiInfo(state);
  if (!mkosiUsable(mk)) throw mkosiTooOld(mk?.version ?? null, state.distro.id, state.distro.version);
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
  const uki = format === 'uki' ? await planUki(state, mk.major, preflight) : null;
  const failed = preflight.filter((p) => !p.ok && !(flags.ignorePreflight ?? []).includes(p.id));
  if (failed.length) throw preflightError(failed);
  // Skipping a UKI prerequisite cannot make a UKI: those refusals stand.
  if (format === 'uki' && !uki) throw preflightError(preflight.filter((p) => !p.ok && p.id.startsWith('uki-')));
  const { config, set: previewSet, warnings: previewWarnings } = await hostConfig(state, mk, { slim: flags.slim });
  const suffix = `${flags.slim ? '-slim' : ''}${flags.generic ? '-generic' : ''}`;
  const output = path.resolve(flags.output ?? (uki ? `uki-${state.kernelVersion}${suffix}.efi` : `initrd-${state.kernelVersion}${suffix}.cpio.zst`));
  const log = path.resolve(flags.log ?? `${output}.log`);
  const started = performance.now();
  const targetModules = state.snapshotFiles?.get('modules');
  const moduleSource = flags.generic ? 'generic' : state.snapshotFiles ? (targetModules ? 'snapshot' : 'snapshot-without-modules') : 'live';
  // ukify wraps an initrd built first into a scratch directory, with the microcode archive 50-mkosi.install writes beside it.
  const scratch = uki ? await mkdtemp(path.join('/var/tmp', 'initrd-wizard-uki-')) : null;
  const microcode = uki ? await hostMicrocode(state.fs, !!state.snapshotFiles) : null;
  let built: { durationMs: number };
  let ukifyMs = 0;
  try {
    const b = await buildInitrd({
      runner: state.runner,
      kernelVersion: state.kernelVersion,
      config,
      output: scratch ? path.join(scratch, 'initrd') : output,
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
    built = b;
    if (uki && scratch) {
      flags.onStage?.('Wrapping the initrd into a UKI with ukify', performance.now() - started);
      const lines: string[] = [];
      if (microcode && 'cpio' in microcode) await writeFile(path.join(scratch, 'microcode'), microcode.cpio, { mode: 0o644 });
      const r = await runUkify(
        state.runner,
        { ukify: uki.ukify, stub: uki.stub, kernel: uki.kernel, initrds: [...(microcode && 'cpio' in microcode ? [path.join(scratch, 'microcode')] : []), path.join(scratch, 'initrd')], cmdline: uki.cmdline.options, kernelVersion: state.kernelVersion, output, config: uki.config },
        { signal: flags.signal, env: flags.env, logFile: log, onLine: (l) => { lines.push(l); flags.onLine?.(l); } },
      );
      ukifyMs = r.durationMs;
      await appendFile(log, `# ${formatArgv(r.argv)}\n${lines.map((l) => `${l}\n`).join('')}`);
    }
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
  const builtPackages = packagesFromLog(await readFile(log, 'utf8'), state.distro.family);
  const comparison = previewSet && builtPackages ? comparePreview(previewSet.closure.packages.map((p) => p.name), builtPackages) : null;
  const graph = uki ? await storageGraph(state.runner, state.snapshotFiles) : null;
  const verified = await verifyImage(output, state.report, state.fs, state.kernelVersion, { graph });
  // Without --slim the image is what install's configuration builds: remember the verdict for install (initrds only).
  if (!flags.slim && !uki) {
    await saveRecord({ key: configKey(config), kernelVersion: state.kernelVersion, output, ok: verified.ok, failed: verified.checks.filter((c) => !c.ok).map((c) => c.id), at: new Date().toISOString() }).catch(() => undefined);
  }
  const durationMs = built.durationMs + ukifyMs;
  const doc: BuildDocument = {
    format,
    kernelVersion: state.kernelVersion,
    output,
    log,
    durationMs: Math.round(durationMs),
    slim: Boolean(flags.slim),
    profiles: state.variant.profiles,
    preflight,
    image: verified.image,
    ...(uki && verified.uki
      ? {
          uki: {
            generator: uki.generator,
            why: uki.why,
            cmdline: uki.cmdline.options.join(' '),
            cmdlineSource: uki.cmdline.source,
            cmdlineFromSnapshot: uki.cmdline.fromSnapshot,
            stub: uki.stub,
            config: uki.config,
            microcode: microcode ? ('cpio' in microcode ? { vendor: microcode.vendor, source: microcode.source } : { vendor: microcode.vendor, source: null, why: microcode.why }) : null,
            arch: verified.uki.arch,
            uname: verified.uki.uname,
            osRelease: verified.uki.osRelease,
            sections: verified.uki.sections,
          },
        }
      : {}),
    current: verified.current,
    checks: verified.checks,
    ok: verified.ok,
    mkosiVersion: mk.version,
    modules: moduleSource,
    packages: comparison,
    notes: config.notes,
    warnings: previewWarnings,
  };
  return { doc, verified, fromSnapshot: !!state.snapshotFiles, ukify: uki?.ukify ?? null };
}

