import path from 'node:path';
import { ExitCode, InputError } from '../errors.js';
import { cannotTellLines, exitCodeFor } from '../host/verdict.js';
import { loadPool, type MetadataSpec } from '../packages/metadata.js';
import { dnfCommand } from '../packages/dnf.js';
import { resolveClosure, UnresolvableError, withFileLists, type Closure } from '../packages/resolve.js';
import type { VerifyResult } from '../packages/verify.js';
import { PACKAGE_NAME } from '../variant/profiles.js';
import type { InstallSet, Origin } from '../mkosi/installset.js';
import type { HostFs } from '../system/files.js';
import { systemRunner, type Runner } from '../system/run.js';
import type { CommandResult } from './result.js';
import { hostMetadataSpec } from '../service/metadata.js';
import { debArch, hostMachine, resolveArch, rpmArch } from '../packages/arch.js';
import type { Pool } from '../packages/pool.js';
import { unsupportedLines } from './format.js';
import { formatBytes } from '../text/bytes.js';

export interface ClosureFlags {
  distro?: string;
  repo?: string[];
  packages?: string;
  snapshot?: string;
  /** --arch: the target machine in any spelling (default: the snapshot's, else this machine's). */
  arch?: string;
  verify?: boolean;
  weak?: boolean;
  runner?: Runner;
  cacheDir?: string | null;
  fs?: HostFs;
}

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseRepoFlags(values: string[]): Array<{ name: string; dir: string }> {
  return values.map((v) => {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : '';
    const dir = eq > 0 ? v.slice(eq + 1) : '';
    if (!REPO_NAME.test(name) || !dir) throw new InputError(`--repo ${v}: expected NAME=PATH (NAME of letters, digits, . _ -)`, 'e.g. --repo fedora=/srv/mirror/fedora/41/x86_64/os');
    return { name, dir: path.resolve(dir) };
  });
}

export function parsePackageList(value: string): string[] {
  const names = value.split(/[\s,]+/).filter(Boolean);
  if (!names.length) throw new InputError('--packages is empty', 'give a comma-separated list, e.g. --packages systemd,lvm2');
  for (const n of names) if (!PACKAGE_NAME.test(n)) throw new InputError(`--packages: "${n}" is not a package name`, 'package names are letters, digits and . _ + -');
  return names;
}

type Verified = VerifyResult & { matches: boolean; onlyHere: string[]; onlyThere: string[] };

const ORIGIN_TEXT: Record<Origin, string> = {
  bootstrap: 'bootstrap',
  mkosi: 'mkosi built-in',
  system: 'system drop-in',
  variant: 'requested',
  dependency: 'dependency',
};

function formatClosure(c: Closure, origin: Map<string, Origin> | null, verify: Verified | null, header: string[]): string {
  const out: string[] = [...header];
  out.push(`${c.count} packages, ${formatBytes(c.installSize)} installed`);
  if (origin) {
    const counts = new Map<Origin, number>();
    for (const p of c.packages) counts.set(origin.get(p.name) ?? 'dependency', (counts.get(origin.get(p.name) ?? 'dependency') ?? 0) + 1);
    out.push(`  ${(Object.keys(ORIGIN_TEXT) as Origin[]).filter((o) => counts.get(o)).map((o) => `${ORIGIN_TEXT[o]} ${counts.get(o)}`).join(', ')}`);
  } else out.push(`  requested: ${c.requested.join(' ')}`);
  out.push('');
  const rows = [...c.packages].sort((a, b) => b.installSize - a.installSize);
  const nameW = Math.min(32, Math.max(...rows.map((r) => r.name.length), 4));
  for (const p of rows) {
    const chain = p.why; // built on each read: read once
    const o = origin?.get(p.name);
    const why = chain.length > 1 ? `← ${chain[chain.length - 3]} (${chain[chain.length - 2]})` : o && o !== 'dependency' ? ORIGIN_TEXT[o] : 'requested';
    out.push(`${p.name.padEnd(nameW)}  ${formatBytes(p.installSize).padStart(9)}  ${p.evr}.${p.arch}  ${why}`);
  }
  if (verify) {
    out.push('');
    out.push(verify.matches ? `${verify.resolver} agrees: the same ${verify.packages.length} packages.` : `${verify.resolver} differs: only here: ${verify.onlyHere.join(' ') || '-'}; only in ${verify.resolver}: ${verify.onlyThere.join(' ') || '-'}`);
  }
  return out.join('\n');
}

function removalLines(set: InstallSet): string[] {
  const out: string[] = [];
  for (const r of set.removedByMkosi) out.push(`removed by mkosi's configuration: ${r.name} (${r.source})`);
  for (const r of set.removals) out.push(`${r.outcome === 'refused' ? 'cannot remove' : 'removed'} ${r.name}: ${r.reason}`);
  return out;
}

export async function closureCommand(flags: ClosureFlags): Promise<CommandResult> {
  const runner = flags.runner ?? systemRunner;
  const repos = parseRepoFlags(flags.repo ?? []);
  // An explicit list is a plain package-manager question: its closure, nothing of mkosi's.
  if (flags.packages) {
    const packages = parsePackageList(flags.packages);
    let spec: MetadataSpec;
    let arch: string;
    // Checked before anything is read: a misspelt --arch is the user's to fix, whatever else is missing.
    if (flags.arch !== undefined) resolveArch(null, flags.arch);
    if (repos.length && !flags.snapshot) {
      spec = { kind: 'rpm-md', repos };
      arch = resolveArch(null, flags.arch);
    } else {
      // The host's facts, mkosi's model and the verifiers load only when asked for: `closure --packages --repo`
      // is a whole process a user waits for, and most of its time would be module loading.
      const { obtainReport, resolveDistro } = await import('../service/host.js');
      const { report } = await obtainReport({ snapshot: flags.snapshot, runner });
      spec = repos.length ? { kind: 'rpm-md', repos } : await hostMetadataSpec(resolveDistro(report, flags.distro).family, runner);
      arch = resolveArch(report, flags.arch);
    }
    const { pool, warnings } = await loadPool(spec, { runner, cacheDir: flags.cacheDir, arch });
    const closure = await resolveClosure(pool, packages, { weak: flags.weak }).catch((err: unknown) => {
      // A name the user typed that no package has or provides is bad input; a dependency nobody provides is not.
      if (err instanceof UnresolvableError && !err.chain.length && packages.includes(err.requirement)) throw new InputError(err.message, err.hint ?? 'check the spelling');
      throw err;
    });
    const verify = flags.verify ? await verifyWith(runner, spec, packages, closure, arch, flags.weak) : null;
    return result(closure, arch, null, verify, warnings, [], [archLine(arch, pool), ...sourceLine(spec)]);
  }
  const { mkosiInfo, pipeline } = await import('../service/pipeline.js');
  const { loadMkosiModel, previewInstall } = await import('../mkosi/model.js');
  const state = await pipeline({ snapshot: flags.snapshot, distro: flags.distro, arch: flags.arch, runner, fs: flags.fs });
  const spec: MetadataSpec = repos.length ? { kind: 'rpm-md', repos } : await hostMetadataSpec(state.distro.family, runner);
  const { pool, warnings } = await loadPool(spec, { runner, cacheDir: flags.cacheDir, arch: state.arch });
  const info = await mkosiInfo(state);
  const model = info && info.major >= 24 ? await loadMkosiModel(state.fs, info, state.distro, undefined, state.arch) : null;
  const set = await withFileLists(pool, () => previewInstall(pool, model, state.variant));
  const header = model
    ? [`What mkosi-initrd ${model.mkosiVersion} installs for ${model.distribution} ${model.release || '(no release)'}: the bootstrap set, mkosi's built-in configuration, then the variant (${state.variant.profiles.join(', ')}).`]
    : [`mkosi >= 24 is not installed here: this is the variant's own closure; mkosi-initrd adds the bootstrap set and its built-in packages.`];
  const verify = flags.verify ? await verifyWith(runner, spec, set.closure.requested, set.closure, state.arch, flags.weak) : null;
  const answer = result(set.closure, state.arch, set, verify, [...warnings, ...(model?.warnings ?? [])], removalLines(set), [...header, archLine(state.arch, pool), ...sourceLine(spec)]);
  // As detect and suggest answer for such a host: the verdict first, the closure for reference, exit 3 (or 2 with facts missing).
  const { report } = state;
  const exitCode = exitCodeFor(report);
  if (exitCode === ExitCode.ok) return answer;
  const verdict = report.unsupported.length
    ? unsupportedLines(report)
    : cannotTellLines(report.incomplete);
  return {
    ...answer,
    json: { ...(answer.json as object), unsupported: report.unsupported, incomplete: report.incomplete },
    text: [...verdict, '', 'The closure below is what the variant would pull in, for reference only: do not build or install it for this host.', '', answer.text].join('\n'),
    exitCode,
  };
}

/** The target the metadata was read for, and the package manager's names of what it may install. */
function archLine(machine: string, pool: Pick<Pool, 'arch' | 'scheme'>): string {
  return `Architecture: ${machine} (${pool.arch} and ${pool.scheme === 'rpm' ? 'noarch' : 'all'} packages)`;
}

/** Which dnf read the host's repositories (dnf5 is preferred, as mkosi does). */
function sourceLine(spec: MetadataSpec): string[] {
  return spec.kind === 'dnf' ? [`Metadata: the host's repositories through ${dnfCommand(spec.flavor, spec.command)} (${spec.flavor}).`] : [];
}

async function verifyWith(runner: Runner, spec: MetadataSpec, packages: string[], closure: Closure, arch: string, weak?: boolean): Promise<Verified> {
  // Another architecture's question, asked of apt (its lists for that architecture) or dnf (--forcearch).
  const foreign = arch !== hostMachine();
  const { aptSimulation, dnfTransaction } = await import('../packages/verify.js');
  const theirs =
    spec.kind === 'apt'
      ? await aptSimulation(runner, packages, { weak, options: foreign ? [`APT::Architecture=${debArch(arch)}`, `APT::Architectures::=${debArch(arch)}`] : [] })
      : await dnfTransaction(runner, spec.kind === 'rpm-md' ? spec.repos : [], packages, {
          weak,
          hostRepos: spec.kind === 'dnf',
          dnf: spec.kind === 'dnf' ? { flavor: spec.flavor, command: dnfCommand(spec.flavor, spec.command) } : undefined,
          forcearch: foreign ? rpmArch(arch) : undefined,
        });
  const ours = closure.packages.map((p) => p.name);
  const onlyHere = ours.filter((n) => !theirs.packages.includes(n)).sort();
  const onlyThere = theirs.packages.filter((n) => !ours.includes(n)).sort();
  return { ...theirs, matches: !onlyHere.length && !onlyThere.length, onlyHere, onlyThere };
}

function result(closure: Closure, arch: string, set: InstallSet | null, verify: Verified | null, warnings: string[], notes: string[], header: string[] = []): CommandResult {
  const json = {
    ...closure,
    arch,
    ...(set
      ? {
          origin: Object.fromEntries(closure.packages.map((p) => [p.name, set.origin.get(p.name) ?? 'dependency'])),
          removedByMkosi: set.removedByMkosi,
          removals: set.removals,
          removePackages: set.removePackages,
          unmatched: set.unmatched,
        }
      : {}),
    ...(verify ? { verify: { resolver: verify.resolver, matches: verify.matches, onlyHere: verify.onlyHere, onlyThere: verify.onlyThere } } : {}),
    warnings,
  };
  const text = formatClosure(closure, set?.origin ?? null, verify, header) + (notes.length ? `\n\n${notes.join('\n')}` : '');
  return { json, text, exitCode: verify && !verify.matches ? 1 : 0, diagnostics: warnings.map((w) => `warning: ${w}`) };
}
