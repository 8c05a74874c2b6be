import { access, constants as fsc } from 'node:fs';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline/promises';
import path from 'node:path';
import { ExitCode, InputError, WizardError } from '../errors.js';
import { Root } from '../install/fsops.js';
import { fallbackLine, planDiff, planInstall, type FileChange, type InstallPlan } from '../install/plan.js';
import { Transaction } from '../install/transaction.js';
import { hostConfig } from '../service/variant-config.js';
import { configKey, findRecord } from '../mkosi/records.js';
import { mkosiTooOld, mkosiUsable } from '../mkosi/version.js';
import { CommandFailedError, CommandNotFoundError } from '../system/run.js';
import { hostFs } from '../system/files.js';
import type { CommandResult } from './result.js';
import { regenerate } from '../install/regenerate.js';
import { ukiInstallFacts } from '../service/uki-install.js';
import { hostCrypttab, mkosiInfo, pipeline, type PipelineFlags } from '../service/pipeline.js';
import { commandLine } from '../paths.js';
import type { UkiGenerator } from '../uki/generator.js';
import type { UkiFacts } from '../install/uki.js';

const accessAsync = promisify(access);

export interface InstallFlags extends PipelineFlags {
  root?: string;
  dryRun?: boolean;
  yes?: boolean;
  /** bls or uki (the CLI's --layout choices). */
  layout?: 'bls' | 'uki';
  regenerate?: boolean;
  /** layout uki: the generator the user asked for (ukify is the default). */
  ukiGenerator?: UkiGenerator;
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

export async function installCommand(flags: InstallFlags): Promise<CommandResult> {
  const rootDir = path.resolve(flags.root ?? '/');
  const root = new Root(rootDir);
  const fs = hostFs(rootDir);
  const layout = flags.layout ?? 'bls';
  if (flags.ukiGenerator !== undefined && layout !== 'uki') throw new InputError('--uki-generator only applies to --layout uki', 'add --layout uki, or drop --uki-generator');
  const state = await pipeline({ ...flags, fs });
  const runner = state.runner;
  if (state.report.unsupported.length && !flags.force) {
    throw new WizardError(
      `this host uses storage a package-built initrd cannot bring up (${state.report.unsupported.map((u) => `${u.id} on ${u.device}`).join(', ')}); not switching it to mkosi-initrd`, { exit: ExitCode.unsupported, hint: state.report.unsupported[0]!.advice },
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
  if (!mkosiUsable(mk)) {
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
  const hc = mk ? await hostConfig(state, mk) : null;
  const key = hc ? configKey(hc.config) : '';
  const record = await findRecord(key);
  const uki = layout === 'uki' ? await ukiInstallFacts(state, rootDir, mk, { ukiGenerator: flags.ukiGenerator, regenerate: flags.regenerate, builtImage: record?.output ?? null }) : null;
  if (uki) problems.push(...uki.problems);
  if (!flags.force && !flags.dryRun) {
    if (!record) problems.push('this variant has not been built and checked yet: run `initrd-wizard build` first (or pass --force)');
    else if (!record.ok) problems.push(`the build of this variant failed its checks (${record.failed.join(', ')}): fix them and build again (or pass --force)`);
  }
  if (problems.length) throw new WizardError(`not installing:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { hint: 'nothing was changed; fix the items above and run install again' });

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
