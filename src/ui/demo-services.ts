/**
 * The demo: the bundled snapshot (a real capture), Debian 12's real package
 * list (demo/debian/Packages.xz), the recording machine's mkosi version's
 * built-in configuration, a replay of a real recorded build,
 * and a throwaway install root. Nothing on the machine is read or changed
 * outside that temporary directory.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { analyze } from '../host/analyze.js';
import { loadSnapshot, snapshotDirName, writeSnapshot } from '../host/snapshot.js';
import { loadPoolInBackground } from '../packages/background.js';
import { DEMO_SNAPSHOT, fixtureSnapshot, packageRoot } from '../paths.js';
import { systemRunner } from '../system/run.js';
import { loadProfiles } from '../variant/profiles.js';
import { loadMkosiModel, previewInstall } from '../mkosi/model.js';
import { renderVariant } from '../mkosi/render.js';
import type { Pool } from '../packages/pool.js';
import { hostFs } from '../system/files.js';
import { resolveDistro } from '../service/host.js';
import { WizardError } from '../errors.js';
import { applyReviewed, reviewInstall, type PlanArgs } from './install-steps.js';
import { confPrefs } from './prefs.js';
import type { BuildOutcome, HostData, Prefs, WizardServices } from './services.js';
import type { Variant } from '../variant/suggest.js';

const record = z.object({
  recordedAt: z.string(),
  snapshot: z.string(),
  mkosiVersion: z.string().nullable(),
  kernelVersion: z.string(),
  durationMs: z.number(),
  stages: z.array(z.object({ stage: z.string(), atMs: z.number() })),
  lines: z.array(z.object({ atMs: z.number(), text: z.string() })),
  image: z.any(),
  current: z.object({ path: z.string(), size: z.number() }).nullable().optional(),
  checks: z.array(z.object({ id: z.string(), ok: z.boolean(), detail: z.string() })),
  ok: z.boolean(),
  packages: z.object({ previewed: z.number(), built: z.number(), equal: z.boolean(), onlyPreviewed: z.array(z.string()), onlyBuilt: z.array(z.string()) }).nullable().optional(),
});

/** An older upstream dracut plugin that always builds: the case install must mask. */
const DRACUT_PLUGIN = `#!/usr/bin/bash
COMMAND="\${1:?}"
KERNEL_VERSION="\${2:?}"
[[ "$COMMAND" == add ]] || exit 0
dracut -f "$KERNEL_INSTALL_STAGING_AREA/initrd" "$KERNEL_VERSION"
`;

export interface DemoOptions {
  /** Directory for the demo root and saved snapshots (default: a new temporary directory). */
  workDir?: string;
  /** Where `s` saves the demo's snapshot (default: the working directory). */
  snapshotDir?: string;
  prefs?: Prefs;
  cacheDir?: string | null;
  /** How much faster than recorded the build replays (default 8). */
  replaySpeed?: number;
}

export async function demoServices(options: DemoOptions = {}): Promise<WizardServices & { workDir: string; root: string }> {
  const workDir = options.workDir ?? (await mkdtemp(path.join(os.tmpdir(), 'initrd-wizard-demo-')));
  const root = path.join(workDir, 'root');
  const snapshotDir = fixtureSnapshot(DEMO_SNAPSHOT);
  const snapshot = await loadSnapshot(snapshotDir);
  const file = (name: string) => snapshot.files.get(name) ?? null;

  // The demo root: the snapshot host's own /etc files, and dracut as the current generator.
  const seed: Array<[string, string, number]> = [
    ['etc/os-release', file('os-release') ?? 'ID=debian\nVERSION_ID="12"\n', 0o644],
    ['etc/machine-id', '4a1e5d7c2b9f4e0a8c3d6b1f0e2a9c7d\n', 0o444],
    ['etc/kernel/install.conf', file('install.conf') ?? 'layout=bls\n', 0o644],
    ['usr/lib/kernel/install.d/50-dracut.install', DRACUT_PLUGIN, 0o755],
  ];
  if (file('crypttab')) seed.push(['etc/crypttab', file('crypttab')!, 0o600]);
  for (const [rel, content, mode] of seed) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content, { mode });
    await chmod(path.join(root, rel), mode);
  }
  await mkdir(path.join(root, 'etc/kernel/install.d'), { recursive: true });
  await mkdir(path.join(root, 'var/lib'), { recursive: true });

  const rec = record.parse(JSON.parse(await readFile(path.join(packageRoot(), 'demo', 'build-record.json'), 'utf8')));
  const speed = options.replaySpeed ?? 8;
  let poolLoad: Promise<Pool> | null = null;
  const loadDemoPool = () =>
    // The bundled list is an amd64 host's (amd64 and all), whatever machine runs the demo.
    (poolLoad ??= loadPoolInBackground({ kind: 'deb-file', file: path.join(packageRoot(), 'demo', 'debian', 'Packages.xz') }, { runner: systemRunner, cacheDir: options.cacheDir, arch: 'x86_64' }).then((l) => l.pool));
  const planArgs = async (variant: Variant, host: HostData): Promise<PlanArgs> => {
    const major = Number((rec.mkosiVersion ?? '24').split('.')[0]) || 24;
    // The drop-in as the real services render it: the removals the preview decided, the recorded mkosi's profiles.
    const set = previewInstall(await loadDemoPool(), host.mkosi ?? null, variant);
    const config = renderVariant(variant, host.report, {
      mkosiMajor: major,
      existing: new Set(),
      crypttab: file('crypttab'),
      model: host.mkosi ?? null,
      removePackages: set.removePackages,
      refused: set.removals.filter((r) => r.outcome === 'refused').map((r) => r.name),
    });
    return { variant, report: host.report, mkosi: { major, kernelInstallPlugin: null }, layout: 'bls', crypttab: file('crypttab'), config };
  };

  return {
    mode: 'demo',
    workDir,
    root,
    async loadHost() {
      const report = analyze(snapshot);
      const distro = resolveDistro(report);
      // The preview models the recording machine's mkosi: its version's built-in configuration, as shipped.
      const version = rec.mkosiVersion ?? '24.3';
      const mkosi = await loadMkosiModel(hostFs(packageRoot()), { version, major: Number(version.split('.')[0]) }, distro, `/test/fixtures/mkosi-resources/${version}`, 'x86_64');
      return {
        report,
        distro,
        kernelVersion: report.host.kernel || rec.kernelVersion,
        profiles: await loadProfiles(),
        source: `demo: snapshot ${DEMO_SNAPSHOT} (captured in a QEMU guest)`,
        prefsKey: `demo/${DEMO_SNAPSHOT}/${distro.id}`,
        mkosi,
      };
    },
    async saveSnapshot() {
      // Beside the user, as `initrd-wizard snapshot` writes it: the demo's own directory goes when it ends.
      // (A caller that gave the work directory keeps it, and gets the snapshot there too.)
      const out = path.join(options.snapshotDir ?? options.workDir ?? process.cwd(), snapshotDirName());
      await writeSnapshot(snapshot, out);
      return out;
    },
    loadPackages: loadDemoPool,
    async build(_variant, _host, progress, signal): Promise<BuildOutcome> {
      // A replay of a real build: the stages and log lines as recorded, faster.
      const events = [...rec.stages.map((s) => ({ at: s.atMs, stage: s.stage })), ...rec.lines.map((l) => ({ at: l.atMs, line: l.text }))].sort((a, b) => a.at - b.at);
      const started = performance.now();
      for (const e of events) {
        const wait = e.at / speed - (performance.now() - started);
        if (wait > 0) await sleep(wait, signal);
        if (signal.aborted) throw new WizardError('build cancelled');
        if ('stage' in e && e.stage) progress.stage(e.stage);
        else if ('line' in e && e.line !== undefined) progress.line(e.line);
      }
      return {
        format: 'cpio',
        uki: null,
        reproducible: null,
        output: path.join(workDir, `initrd-${rec.kernelVersion}.cpio.zst`),
        log: path.join(workDir, 'build.log'),
        durationMs: rec.durationMs,
        image: rec.image,
        current: rec.current ? { path: `${rec.current.path} on the recording machine`, size: rec.current.size } : null,
        checks: rec.checks,
        ok: rec.ok,
        replay: `replay of a real mkosi-initrd ${rec.mkosiVersion ?? ''} build of the suggested variant, recorded ${rec.recordedAt} (kernel ${rec.kernelVersion}); your package changes are not built in the demo`,
      };
    },
    // The demo has one recorded build, a cpio one: a UKI would be a build nobody ran.
    ukiUnavailable: async () => 'the demo replays one recorded cpio build; run the wizard as root on a host with ukify and the systemd-boot stub to build a UKI',
    reproducibleUnavailable: 'the demo replays one recorded build; comparing two needs two real builds (as root: initrd-wizard build --check-reproducible)',
    plan: async (variant, host) => reviewInstall(root, await planArgs(variant, host)),
    apply: async (review, variant, host) => applyReviewed(review, await planArgs(variant, host)),
    regenerate: null,
    regenerateUnavailable: 'the demo root has no kernel to regenerate an initrd for',
    // Nothing of the demo outlives it, unless the caller gave the directory (tests read it afterwards).
    exitNote: options.workDir ? `Demo files: ${workDir}` : `The demo worked in a temporary directory, now removed: nothing on this machine was changed.`,
    dispose: options.workDir ? undefined : () => rm(workDir, { recursive: true, force: true }),
    prefs: options.prefs ?? confPrefs(),
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
