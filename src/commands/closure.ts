import path from 'node:path';
import { InputError, WizardError } from '../errors.js';
import { loadPool, type MetadataSpec } from '../packages/metadata.js';
import { detectDnf } from '../packages/dnf.js';
import { resolveClosure, type Closure } from '../packages/resolve.js';
import { aptSimulation, dnfTransaction, type VerifyResult } from '../packages/verify.js';
import { PACKAGE_NAME, loadProfiles } from '../variant/profiles.js';
import { suggest } from '../variant/suggest.js';
import { systemRunner, type Runner } from '../system/run.js';
import { obtainReport, resolveDistro, type CommandResult } from './context.js';
import { formatBytes } from './format.js';

export interface ClosureFlags {
  distro?: string;
  repo?: string[];
  packages?: string;
  snapshot?: string;
  verify?: boolean;
  weak?: boolean;
  runner?: Runner;
  cacheDir?: string | null;
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

function formatClosure(c: Closure, verify: (VerifyResult & { matches: boolean; onlyHere: string[]; onlyThere: string[] }) | null): string {
  const out: string[] = [];
  out.push(`${c.count} packages, ${formatBytes(c.installSize)} installed (requested: ${c.requested.join(' ')})`);
  out.push('');
  const rows = [...c.packages].sort((a, b) => b.installSize - a.installSize);
  const nameW = Math.min(32, Math.max(...rows.map((r) => r.name.length), 4));
  for (const p of rows) {
    const chain = p.why; // built on each read: read once
    const why = chain.length > 1 ? `← ${chain[chain.length - 3]} (${chain[chain.length - 2]})` : 'requested';
    out.push(`${p.name.padEnd(nameW)}  ${formatBytes(p.installSize).padStart(9)}  ${p.evr}.${p.arch}  ${why}`);
  }
  if (verify) {
    out.push('');
    out.push(verify.matches ? `${verify.resolver} agrees: the same ${verify.packages.length} packages.` : `${verify.resolver} differs: only here: ${verify.onlyHere.join(' ') || '-'}; only in ${verify.resolver}: ${verify.onlyThere.join(' ') || '-'}`);
  }
  return out.join('\n');
}

/** The host's own package metadata for a distribution family: apt, or dnf's view of the enabled repositories. */
export async function hostMetadataSpec(family: string, runner: Runner): Promise<MetadataSpec> {
  if (family === 'debian') return { kind: 'apt' };
  if (family === 'fedora') {
    const flavor = await detectDnf(runner);
    if (!flavor) throw new WizardError('dnf is not installed, so the host repositories cannot be read', 1, 'install dnf, or pass --repo NAME=PATH with an rpm-md repository');
    return { kind: 'dnf', flavor };
  }
  throw new WizardError(`reading ${family} repositories is not supported yet`, 1, 'pass --repo NAME=PATH with an rpm-md repository, or --distro fedora|debian');
}

export async function closureCommand(flags: ClosureFlags): Promise<CommandResult> {
  const runner = flags.runner ?? systemRunner;
  const repos = parseRepoFlags(flags.repo ?? []);
  let packages: string[];
  let family: string;
  if (flags.packages) {
    packages = parsePackageList(flags.packages);
    family = repos.length ? 'fedora' : flags.distro ? '' : '';
  } else {
    const { report } = await obtainReport({ snapshot: flags.snapshot, runner });
    const distro = resolveDistro(report, flags.distro);
    packages = suggest(report, await loadProfiles(), { distro }).packages;
    family = distro.family;
  }
  let spec: MetadataSpec;
  if (repos.length) spec = { kind: 'rpm-md', repos };
  else {
    if (!family) {
      const { report } = await obtainReport({ snapshot: flags.snapshot, runner });
      family = resolveDistro(report, flags.distro).family;
    }
    spec = await hostMetadataSpec(family, runner);
  }
  const { pool, warnings } = await loadPool(spec, { runner, cacheDir: flags.cacheDir });
  const closure = await resolveClosure(pool, packages, { weak: flags.weak });
  let verify: (VerifyResult & { matches: boolean; onlyHere: string[]; onlyThere: string[] }) | null = null;
  if (flags.verify) {
    const theirs =
      spec.kind === 'apt'
        ? await aptSimulation(runner, packages, { weak: flags.weak })
        : await dnfTransaction(runner, spec.kind === 'rpm-md' ? spec.repos : [], packages, { weak: flags.weak, hostRepos: spec.kind === 'dnf' });
    const ours = closure.packages.map((p) => p.name);
    const onlyHere = ours.filter((n) => !theirs.packages.includes(n)).sort();
    const onlyThere = theirs.packages.filter((n) => !ours.includes(n)).sort();
    verify = { ...theirs, matches: !onlyHere.length && !onlyThere.length, onlyHere, onlyThere };
  }
  const json = { ...closure, ...(verify ? { verify: { resolver: verify.resolver, matches: verify.matches, onlyHere: verify.onlyHere, onlyThere: verify.onlyThere } } : {}), warnings };
  return {
    json,
    text: formatClosure(closure, verify),
    exitCode: verify && !verify.matches ? 1 : 0,
    diagnostics: warnings.map((w) => `warning: ${w}`),
  };
}
