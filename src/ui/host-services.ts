/** The real machine (or a snapshot of one, or another root): the same service layer the subcommands call, returning its domain objects. */
import { cacheDir } from '../cache.js';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildImage, type BuildRun } from '../service/build.js';
import { buildTwice } from '../service/reproducible.js';
import { hostMetadataSpec } from '../service/metadata.js';
import { hostConfig } from '../service/variant-config.js';
import { saveHostSnapshot } from '../service/snapshot.js';
import { ukiInstallFacts } from '../service/uki-install.js';
import { loadSnapshot, snapshotDirName, writeSnapshot } from '../host/snapshot.js';
import { hostCrypttab, mkosiInfo, pipeline, type PipelineState } from '../service/pipeline.js';
import { regenerate as regenerateInitrd } from '../install/regenerate.js';
import { WizardError } from '../errors.js';
import { Root } from '../install/fsops.js';
import { Transaction } from '../install/transaction.js';
import { loadPoolInBackground } from '../packages/background.js';
import { loadProfiles } from '../variant/profiles.js';
import { hostFs } from '../system/files.js';
import { mkosiTooOld, mkosiUsable, type MkosiInfo } from '../mkosi/version.js';
import { applyReviewed, reviewInstall, type PlanArgs } from './install-steps.js';
import { confPrefs } from './prefs.js';
import type { BuildOutcome, HostData, ImageFormat, Prefs, ReproducibleSummary, WizardServices } from './services.js';
import { detectUkiToolchain } from '../uki/detect.js';
import { ukiPreflight } from '../uki/assemble.js';
import type { Variant } from '../variant/suggest.js';

export interface HostOptions {
  snapshot?: string;
  root?: string;
  distro?: string;
  kernelVersion?: string;
  /** --arch: the target machine in any spelling (default: the snapshot's, else this machine's). */
  arch?: string;
  prefs?: Prefs;
  /** Extra environment for mkosi-initrd and kernel-install (tests put the mkosi shim on PATH). */
  env?: Record<string, string>;
  ignorePreflight?: string[];
  imageDir?: string;
  /** Where `s` saves a snapshot (default: the working directory, as `initrd-wizard snapshot` does). */
  snapshotDir?: string;
}

export function hostServices(options: HostOptions = {}): WizardServices {
  const rootDir = path.resolve(options.root ?? '/');
  const fs = hostFs(rootDir);
  let state: PipelineState | null = null;
  // mkosi and the crypttab are read once: apply must plan from exactly what Review planned from.
  let installInputs: Promise<{ mkosi: MkosiInfo; crypttab: string | null }> | null = null;
  const planArgs = async (variant: Variant, host: HostData, format: ImageFormat): Promise<PlanArgs> => {
    installInputs ??= (async () => {
      const mk = await mkosiInfo({ runner: state!.runner, fs: hostFs('/') });
      if (!mkosiUsable(mk)) throw mkosiTooOld(mk?.version ?? null, host.distro.id, host.distro.version);
      return { mkosi: mk, crypttab: await hostCrypttab(state!) };
    })();
    // A failed detection (mkosi missing) is asked again next time, after the user fixed it.
    const inputs = await installInputs.catch((err: unknown) => {
      installInputs = null;
      throw err;
    });
    // The drop-in exactly as build renders it for this mkosi (the removals it can make, its profiles, the keymap).
    const { config } = await hostConfig(state!, inputs.mkosi, { variant });
    if (format !== 'uki') return { variant, report: host.report, layout: 'bls', ...inputs, config };
    // A UKI: the same facts and refusals as `install --layout uki`.
    const uki = await ukiInstallFacts(state!, rootDir, inputs.mkosi, { builtImage: null });
    if (uki.problems.length) throw new WizardError(`a UKI cannot be installed here:\n${uki.problems.map((p) => `  - ${p}`).join('\n')}`, { hint: 'nothing was changed; fix the items above, or press u on Build for a cpio initrd (layout=bls)' });
    return { variant, report: host.report, layout: 'uki', ukiGenerator: uki.generator ?? undefined, uki, ...inputs, config };
  };
  const imageDir = options.imageDir ?? cacheDir('images');

  return {
    mode: 'host',
    async loadHost() {
      state = await pipeline({ snapshot: options.snapshot, distro: options.distro, kernelVersion: options.kernelVersion, arch: options.arch, fs });
      const id = (await fs.read('/etc/machine-id').catch(() => ''))?.trim() || os.hostname();
      return {
        report: state.report,
        distro: state.distro,
        kernelVersion: state.kernelVersion,
        profiles: await loadProfiles(),
        source: options.snapshot ? `snapshot ${options.snapshot}` : rootDir === '/' ? `this host (${os.hostname()})` : `root ${rootDir}`,
        prefsKey: `${options.snapshot ? `snapshot:${path.resolve(options.snapshot)}` : id}/${state.distro.id}`,
      };
    },
    async saveSnapshot() {
      const output = path.join(options.snapshotDir ?? process.cwd(), snapshotDirName());
      // The machine on screen: with --snapshot that is the capture being shown (read again, as validated as at start), never this one.
      if (options.snapshot) {
        await writeSnapshot(await loadSnapshot(options.snapshot), output);
        return output;
      }
      return (await saveHostSnapshot(output)).dir;
    },
    async loadPackages(host) {
      return (await loadPoolInBackground(await hostMetadataSpec(host.distro.family, state!.runner), { runner: state!.runner, arch: state!.arch })).pool;
    },
    async build(variant, host, progress, signal, request): Promise<BuildOutcome> {
      const output = path.join(imageDir, `initrd-${host.kernelVersion}${request.format === 'uki' ? '.efi' : '.cpio.zst'}`);
      await mkdir(imageDir, { recursive: true });
      const flags = {
        snapshot: options.snapshot,
        distro: options.distro,
        arch: options.arch,
        kernelVersion: host.kernelVersion,
        // The build runs on this machine (its mkosi, kernel and package manager) whatever root install targets.
        variant,
        output,
        format: request.format,
        signal,
        env: options.env,
        ignorePreflight: options.ignorePreflight,
        onStage: (s: string) => progress.stage(s),
        onLine: (l: string) => progress.line(l),
      };
      if (!request.reproducible) return buildOutcome(await buildImage(flags), request.format, null);
      const twice = await buildTwice(flags);
      return buildOutcome(twice.kept, request.format, { identical: twice.doc.identical, differences: twice.doc.differences, extraMs: twice.doc.extraBuildMs });
    },
    async ukiUnavailable(host) {
      const mk = await mkosiInfo({ runner: state!.runner, fs: hostFs('/') });
      const t = await detectUkiToolchain(state!.runner, hostFs('/'), { family: host.distro.family, codename: host.distro.codename, mkosiMajor: mk?.major ?? null });
      const failed = ukiPreflight(t).filter((p) => !p.ok);
      return failed.length ? failed.map((p) => `${p.detail}${p.fix ? ` (${p.fix})` : ''}`).join('; ') : null;
    },
    plan: async (variant, host, format) => reviewInstall(rootDir, await planArgs(variant, host, format)),
    apply: async (review, variant, host, format) => applyReviewed(review, await planArgs(variant, host, format)),
    regenerate: options.snapshot
      ? null
      : async (host, installed) => {
          const root = new Root(rootDir);
          const tx = new Transaction(root);
          const release = await tx.lock();
          const lines: string[] = [];
          try {
            await regenerateInitrd(root, tx, host.kernelVersion, state!.runner, lines, options.env, installed.layout, installed.bootDir);
          } finally {
            await tx.cleanup(release);
          }
          return lines;
        },
    regenerateUnavailable: options.snapshot ? 'the facts come from a snapshot, not this machine: regenerate on the machine itself' : undefined,
    prefs: options.prefs ?? confPrefs(),
  };
}

/** A build as the Build screen shows it. */
export function buildOutcome(run: BuildRun, format: ImageFormat, reproducible: ReproducibleSummary | null): BuildOutcome {
  const { doc } = run;
  const uki = doc.uki ? { generator: doc.uki.generator, cmdline: doc.uki.cmdline, cmdlineSource: doc.uki.cmdlineSource, sections: doc.uki.sections } : null;
  return { format, uki, reproducible, output: doc.output, log: doc.log, durationMs: doc.durationMs, image: doc.image, current: doc.current, checks: doc.checks, ok: doc.ok, replay: null };
}
