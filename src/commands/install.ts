import { access, constants as fsc } from 'node:fs';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline/promises';
import path from 'node:path';
import { ExitCode, InputError, WizardError } from '../errors.js';
import { Root } from '../install/fsops.js';
import { fallbackLine, planDiff, planInstall, type FileChange, type InstallPlan } from '../install/plan.js';
import { Transaction } from '../install/transaction.js';
import { kernelInstallEnv, parseInspect, type Inspected } from '../install/kernelinstall.js';
import type { PathState } from '../install/fsops.js';
import { hostConfig } from './variant-config.js';
import { configKey, findRecord } from '../mkosi/records.js';
import { mkosiTooOld, type MkosiInfo } from '../mkosi/version.js';
import { CommandFailedError, CommandNotFoundError } from '../system/run.js';
import { hostFs } from '../system/files.js';
import type { CommandResult } from './context.js';
import { hostCrypttab, kernelImage, mkosiInfo, pipeline, type PipelineFlags, type PipelineState } from './pipeline.js';
import { commandLine, packageRoot } from '../paths.js';
import type { UkiGenerator } from '../uki/generator.js';
import { ukiFacts, ukiSpace, type UkiFacts } from '../install/uki.js';
import { detectUkiToolchain } from '../uki/detect.js';
import { pickUkiGenerator } from '../uki/generator.js';

const accessAsync = promisify(access);

export interface InstallFlags extends PipelineFlags {
  root?: string;
  dryRun?: boolean;
  yes?: boolean;
  layout?: string;
  regenerate?: boolean;
  /** layout uki: the generator the user asked for (ukify is the default). */
  ukiGenerator?: string;
  force?: boolean;
  json?: boolean;
  /** Extra environment for kernel-install (tests put the mkosi shim on PATH). */
  env?: Record<string, string>;
  /** Asks the user; absent when not interactive. */
  confirm?: (question: string) => Promise<boolean>;
}

async function which(runner: PipelineFlags['runner'], argv: string[]): Promise<boolean> {
  try {
    await runner!.run(argv, { timeoutMs: 30_000 });
    return true;
  } catch (err) {
    if (err instanceof CommandNotFoundError) return false;
    return err instanceof CommandFailedError;
  }
}

export async function ttyConfirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

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

export async function installCommand(flags: InstallFlags): Promise<CommandResult> {
  const rootDir = path.resolve(flags.root ?? '/');
  const root = new Root(rootDir);
  const fs = hostFs(rootDir);
  const layout = flags.layout ?? 'bls';
  if (layout !== 'bls' && layout !== 'uki') throw new InputError(`--layout ${layout}: expected bls or uki`);
  if (flags.ukiGenerator !== undefined && flags.ukiGenerator !== 'ukify' && flags.ukiGenerator !== 'mkosi') throw new InputError(`--uki-generator ${flags.ukiGenerator}: expected ukify or mkosi`);
  if (flags.ukiGenerator !== undefined && layout !== 'uki') throw new InputError('--uki-generator only applies to --layout uki', 'add --layout uki, or drop --uki-generator');
  const state = await pipeline({ ...flags, fs });
  const runner = state.runner;
  if (state.report.unsupported.length && !flags.force) {
    throw new WizardError(
      `this host uses storage a package-built initrd cannot bring up (${state.report.unsupported.map((u) => `${u.id} on ${u.device}`).join(', ')}); not switching it to mkosi-initrd`,
      ExitCode.unsupported,
      state.report.unsupported[0]!.advice,
    );
  }

  // Preconditions, before the first write.
  const problems: string[] = [];
  if (rootDir === '/' && process.getuid?.() !== 0) problems.push('installing into / needs root: run with sudo');
  try {
    await accessAsync(rootDir, fsc.W_OK);
    await accessAsync(root.at('/etc'), fsc.W_OK);
  } catch (err) {
    // A root without /etc is not a system at all: bad input, said as such rather than as a read-only /etc.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (await root.state('/etc')).type === 'absent') {
      throw new InputError(`${rootDir} has no /etc: it is not the root of an installed system`, 'pass the directory that holds the system\'s /etc, /usr and /boot, or leave out --root');
    }
    problems.push(`${root.at('/etc')} is not writable (read-only file system or missing permissions): nothing was changed`);
  }
  const mk = await mkosiInfo({ runner, fs: hostFs('/') });
  if (!mk || mk.major < 24 || !mk.hasInitrd) {
    const e = mkosiTooOld(mk?.version ?? null, state.distro.id, state.distro.version);
    problems.push(`${e.message} (${e.hint})`);
  }
  if (!(await which(runner, ['kernel-install', '--version']))) problems.push('kernel-install is not installed: nothing would use the configuration');
  // mkosi-initrd (24.3 to 27 at least) passes --extra-tree=/usr/lib/firmware, and mkosi stops with
  // "Extra tree /usr/lib/firmware not found" when it is missing: every kernel-install would fail.
  if (mk && !(await hostFs('/').stat('/usr/lib/firmware').catch(() => null))?.isDirectory()) {
    problems.push(`/usr/lib/firmware does not exist: mkosi-initrd hands it to mkosi ${mk.version} as an extra tree, and the build stops with "Extra tree /usr/lib/firmware not found" (create it with mkdir -p /usr/lib/firmware, or install your firmware packages)`);
  }
  const crypttab = await hostCrypttab(state);
  // The exact configuration this install writes must have been built and checked.
  const hc = mk ? await hostConfig(state, mk, async (f) => (await root.state(f)).type === 'file') : null;
  const key = hc ? configKey(hc.config) : '';
  const record = await findRecord(key);
  const uki = layout === 'uki' ? await ukiInstallFacts(state, rootDir, mk, { ukiGenerator: flags.ukiGenerator as UkiGenerator | undefined, regenerate: flags.regenerate, builtImage: record?.output ?? null }) : null;
  if (uki) problems.push(...uki.problems);
  if (!flags.force && !flags.dryRun) {
    if (!record) problems.push('this variant has not been built and checked yet: run `initrd-wizard build` first (or pass --force)');
    else if (!record.ok) problems.push(`the build of this variant failed its checks (${record.failed.join(', ')}): fix them and build again (or pass --force)`);
  }
  if (problems.length) throw new WizardError(`not installing:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 1, 'nothing was changed; fix the items above and run install again');

  const tx = new Transaction(root);
  if (flags.dryRun) {
    // A dry run writes nothing: no lock, no recovery, just the diff against what is there now.
    const pending = (await tx.status())?.phase;
    const plan = await planInstall({ root, variant: state.variant, report: state.report, mkosi: mk!, layout, ukiGenerator: uki?.generator ?? undefined, uki: uki ?? undefined, crypttab, config: hc?.config });
    const diff = await planDiff(root, plan);
    const notes = [...(pending && pending !== 'applied' ? [`an interrupted ${pending === 'applying' ? 'install' : 'revert'} will be ${pending === 'applying' ? 'rolled back' : 'completed'} by the next real run`] : []), ...plan.notes];
    return {
      json: { root: rootDir, layout, ...ukiJson(uki), dryRun: true, applied: false, plugin: plan.plugin, generators: plan.generators, changes: plan.changes.map(({ path: p, kind, target, why }: FileChange) => ({ path: p, kind, target, why })), unchanged: plan.unchanged.map((c) => c.path), notes, diff },
      text: [...notes.map((n) => `note: ${n}`), diff, plan.changes.length ? `Dry run: ${plan.changes.length} file(s) would change.` : 'Dry run: nothing would change.'].join('\n'),
      exitCode: 0,
    };
  }
  const release = await tx.lock();
  try {
    const recovered = await tx.recover();
    const plan: InstallPlan = await planInstall({ root, variant: state.variant, report: state.report, mkosi: mk!, layout, ukiGenerator: uki?.generator ?? undefined, uki: uki ?? undefined, crypttab, config: hc?.config });
    const diff = await planDiff(root, plan);
    const header = [...(recovered ? [`note: ${recovered}`] : []), ...plan.notes.map((n) => `note: ${n}`)];
    const jsonBase = { root: rootDir, layout, ...ukiJson(uki), plugin: plan.plugin, generators: plan.generators, changes: plan.changes.map(({ path: p, kind, target, why }: FileChange) => ({ path: p, kind, target, why })), unchanged: plan.unchanged.map((c) => c.path), notes: plan.notes, recovered, diff };
    if (!plan.changes.length) {
      return { json: { ...jsonBase, applied: false }, text: [...header, `Nothing to change: ${root.at('/etc')} already has this configuration.`].join('\n'), exitCode: 0 };
    }
    if (!flags.yes) {
      if (!flags.confirm) throw new InputError('install changes the boot configuration and needs a confirmation', 'review with --dry-run, then run again with --yes');
      process.stderr.write(header.concat([diff]).join('\n') + '\n');
      if (!(await flags.confirm(`Apply these ${plan.changes.length} change(s)?`))) return { json: { ...jsonBase, applied: false }, text: 'Nothing was changed.', exitCode: 1 };
    }
    await tx.apply(plan);
    const lines = [...header, ...(flags.yes ? [diff] : []), `Installed: ${plan.changes.map((c) => c.path).join(', ')}.`, fallbackLine(plan.generators), `Undo everything with: ${commandLine('revert', ...(rootDir !== '/' ? ['--root', rootDir] : []))}`];
    let regenerated: unknown = null;
    if (flags.regenerate) regenerated = await regenerate(root, tx, state.kernelVersion, runner, lines, flags.env, layout, uki?.boot.dir);
    return { json: { ...jsonBase, applied: true, regenerated }, text: lines.join('\n'), exitCode: 0 };
  } finally {
    await tx.cleanup(release);
  }
}

function ukiJson(uki: UkiFacts | null) {
  if (!uki) return {};
  return { uki: { generator: uki.generator, boot: uki.boot.dir, cmdline: uki.cmdline?.options.join(' ') ?? null, cmdlineFrom: uki.cmdline?.from ?? null, signed: uki.signing ? { certificate: uki.signing.cert, key: uki.signing.key, tool: uki.signing.tool, conf: uki.signing.conf } : null } };
}

/** kernel-install's own answer for the entry token and $BOOT; null when it gives none (its add still runs). */
async function inspect(runner: NonNullable<PipelineFlags['runner']>, wrap: (argv: string[]) => string[], env: Record<string, string>, kver: string, kernel: string): Promise<Inspected | null> {
  for (const extra of [['--json=short'], []]) {
    const r = await runner.run(wrap(['kernel-install', 'inspect', ...extra, kver, kernel]), { env, timeoutMs: 60_000 }).catch(() => null);
    const parsed = r ? parseInspect(r.stdout) : null;
    if (parsed) return parsed;
  }
  return null;
}

/**
 * kernel-install add for the kernel, keeping what boots today as the fallback.
 * bls: the previous initrd and an entry for it. uki: a BLS entry stays as it
 * is (kernel-install with layout=uki neither writes nor removes one), a UKI
 * already there for this kernel is copied to -previous.efi; the new UKI is
 * journaled, so revert removes it (or puts the old one back) and $BOOT is as
 * it was before the install.
 */
export async function regenerate(root: Root, tx: Transaction, kver: string, runner: NonNullable<PipelineFlags['runner']>, lines: string[], extraEnv?: Record<string, string>, layout: 'bls' | 'uki' = 'bls', bootDir = '/boot') {
  // kernel-install and mkosi-initrd follow links: hand them no directory of the root that leads out of it.
  const dirs = layout === 'uki' ? ['/etc', '/etc/kernel', '/etc/mkosi-initrd', bootDir, `${bootDir}/EFI`, `${bootDir}/EFI/Linux`] : ['/etc', '/etc/kernel', '/etc/mkosi-initrd', '/boot', '/boot/loader', '/boot/loader/entries'];
  for (const d of dirs) {
    const st = await root.state(d);
    if (st.type === 'symlink' || st.type === 'other' || st.type === 'file') throw new WizardError(`${root.show(d)} is not a real directory: not running kernel-install on this root`, 2, 'replace it with a real directory, then run again');
  }
  const kernel = await kernelImage(hostFs(root.dir), kver);
  if (!kernel) throw new WizardError(`no kernel image for ${kver} under ${root.dir}`, 1, 'pass --kernel-version for an installed kernel');
  const env = { ...(await kernelInstallEnv(root, layout === 'uki' ? bootDir : '/boot')), ...(extraEnv ?? {}) };
  // For another root, kernel-install and the mkosi-initrd it calls must read that root's /etc.
  const wrap = (argv: string[]) => (root.dir === '/' ? argv : ['unshare', '--mount', '--propagation', 'private', '--', path.join(packageRoot(), 'libexec', 'with-root-etc.sh'), root.at('/etc'), ...argv]);
  const seen = await inspect(runner, wrap, env, kver, kernel);
  const machineId = ((await root.readText('/etc/machine-id')) ?? '').trim();
  const token = seen?.entryToken ?? (((await root.readText('/etc/kernel/entry-token')) ?? '').trim() || machineId);
  // inspect reports $BOOT as a path on this system: back to a path inside the root.
  const inRoot = (p: string) => (root.dir === '/' ? p : p === root.dir ? '/' : p.startsWith(root.dir + '/') ? p.slice(root.dir.length) : null);
  const boot = (seen && inRoot(seen.bootRoot)) ?? (layout === 'uki' ? bootDir : '/boot');
  if (!/^[A-Za-z0-9._-]+$/.test(token)) throw new WizardError(`kernel-install's entry token "${token}" is not a plain name: not regenerating`, 1, 'set one in /etc/kernel/entry-token');

  let uki: { target: string; before: PathState; createdDirs: string[] } | null = null;
  if (layout === 'uki') {
    const linux = `${boot}/EFI/Linux`;
    const target = `${linux}/${token}-${kver}.efi`;
    const before = await root.state(target);
    const createdDirs: string[] = [];
    for (const d of [`${boot}/EFI`, linux]) if ((await root.state(d)).type === 'absent') createdDirs.push(d);
    if (before.type === 'file') {
      const keep = `${linux}/${token}-${kver}-previous.efi`;
      await tx.apply({ changes: [{ path: keep, kind: 'file', content: before.content, mode: 0o644, why: 'the UKI before mkosi-initrd, kept as a fallback' }] });
      lines.push(`Kept the previous UKI as ${keep}.`);
    }
    const entries = (await root.list(`${boot}/loader/entries`)).filter((e) => e.endsWith(`-${kver}.conf`));
    if (entries.length) lines.push(`The boot loader entr${entries.length > 1 ? 'ies' : 'y'} ${entries.map((e) => `${boot}/loader/entries/${e}`).join(', ')} stay${entries.length > 1 ? '' : 's'} as the fallback.`);
    uki = { target, before, createdDirs };
  } else {
    const entryDir = `/boot/${token}/${kver}`;
    const before = await root.state(`${entryDir}/initrd`);
    const entry = `/boot/loader/entries/${token}-${kver}.conf`;
    const entryText = await root.readText(entry);
    if (before.type === 'file' && entryText) {
      const fallback: FileChange[] = [
        { path: `${entryDir}/initrd.previous`, kind: 'file', content: before.content, mode: 0o644, why: 'the initrd before mkosi-initrd, kept as a fallback' },
        {
          path: `/boot/loader/entries/${token}-${kver}-previous-initrd.conf`,
          kind: 'file',
          content: entryText.replace(/^title\s+(.*)$/m, 'title $1 (previous initrd)').replace(/^(initrd\s+\S*\/)initrd\s*$/m, '$1initrd.previous'),
          mode: 0o644,
          why: 'a boot entry that still uses the previous initrd',
        },
      ];
      await tx.apply({ changes: fallback });
      lines.push(`Kept the previous initrd as ${entryDir}/initrd.previous with its own boot entry.`);
    }
  }
  const argv = ['kernel-install', '--verbose', 'add', kver, kernel];
  const r = await runner.run(wrap(argv), { env, timeoutMs: 3_600_000 }).catch((err: unknown) => {
    throw new WizardError(`kernel-install add ${kver} failed: ${err instanceof CommandFailedError ? err.stderr.trim().split('\n').slice(-4).join(' ') : String(err)}`, 1, `the previous ${layout === 'uki' ? 'boot entry or UKI' : 'initrd and its entry'} ${layout === 'uki' ? 'is' : 'are'} still in place; see \`initrd-wizard doctor\``);
  });
  if (uki) {
    const now = await root.state(uki.target);
    if (now.type !== 'file') throw new WizardError(`kernel-install add ${kver} succeeded but put no UKI at ${root.show(uki.target)}`, 1, 'run `kernel-install --verbose add` yourself and read which plugin skipped it (60-ukify.install needs layout=uki and the stub)');
    await tx.adopt([{ path: uki.target, before: uki.before }], uki.createdDirs);
    lines.push(`Installed the UKI ${uki.target} with kernel-install; revert removes it${uki.before.type === 'file' ? ' and puts the previous one back' : ''}.`);
  } else lines.push(`Regenerated the initrd for ${kver} with kernel-install.`);
  return { kernelVersion: kver, entryToken: token, boot, ...(uki ? { uki: uki.target } : {}), output: r.stdout.slice(-2000) };
}
