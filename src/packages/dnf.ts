/**
 * The host's configured repositories through dnf: one repoquery dump of every
 * available package. dnf4 and dnf5 both take --queryformat; multi-valued tags
 * come newline-joined, so records are framed with marker lines.
 */
import { parseCap } from './deps.js';
import { PoolBuilder, type PoolSource } from './pool.js';
import { formatEvr } from './version.js';
import type { Runner } from '../system/run.js';
import { CommandNotFoundError } from '../system/run.js';
import { WizardError } from '../errors.js';

export type DnfFlavor = 'dnf4' | 'dnf5';

const SECTIONS = ['PROVIDES', 'REQUIRES', 'RECOMMENDS', 'OBSOLETES'] as const;
export const QUERY_FORMAT =
  '@@IW-PKG@@\\n%{name}\\n%{epoch}\\n%{version}\\n%{release}\\n%{arch}\\n%{installsize}\\n%{reponame}\\n' +
  SECTIONS.map((s) => `@@IW-${s}@@\\n%{${s.toLowerCase()}}\\n`).join('') +
  '@@IW-END@@\\n';

export async function detectDnf(runner: Runner): Promise<DnfFlavor | null> {
  try {
    const out = (await runner.run(['dnf', '--version'], { timeoutMs: 30_000 })).stdout;
    return /dnf5/i.test(out) ? 'dnf5' : 'dnf4';
  } catch (err) {
    if (err instanceof CommandNotFoundError) return null;
    throw err;
  }
}

/** Parses the framed dump into the pool builder. */
export function parseDnfDump(text: string, builder: PoolBuilder, warnings: string[] = []): number {
  let count = 0;
  for (const record of text.split('@@IW-PKG@@\n').slice(1)) {
    const end = record.indexOf('@@IW-END@@');
    if (end < 0) {
      warnings.push('a truncated package record in the dnf dump was skipped');
      continue;
    }
    const body = record.slice(0, end);
    const head = body.slice(0, body.indexOf('@@IW-'));
    const [name, epoch, version, release, arch, installsize, reponame] = head.split('\n');
    if (!name || !version || !arch) {
      warnings.push('a package record without name, version or arch was skipped');
      continue;
    }
    const section = (s: (typeof SECTIONS)[number]): string[] => {
      const start = body.indexOf(`@@IW-${s}@@\n`);
      if (start < 0) return [];
      const from = start + s.length + 7;
      const next = body.indexOf('@@IW-', from);
      return body
        .slice(from, next < 0 ? undefined : next)
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && l !== '(none)');
    };
    builder.add({
      name,
      arch,
      evr: `${epoch && epoch !== '0' ? `${epoch}:` : ''}${version}${release ? `-${release}` : ''}`,
      installSize: Number(installsize) || 0,
      repo: reponame || 'dnf',
    });
    count++;
    for (const l of section('PROVIDES')) {
      const c = parseCap(l);
      if (c) builder.provide(c.name, c.op, c.evr ? formatEvr(c.evr) : null);
    }
    for (const l of section('REQUIRES')) if (!l.startsWith('rpmlib(')) builder.require(l);
    for (const l of section('RECOMMENDS')) builder.recommend(l);
    for (const l of section('OBSOLETES')) builder.obsolete(l);
  }
  return count;
}

export interface DnfDumpOptions {
  /** Extra dnf arguments (a private config, --repofrompath …) for tests and --repo. */
  extraArgs?: string[];
  arch?: string;
}

/** One repoquery over every available package; file requirements are answered by dnf itself afterwards. */
export async function loadDnfMetadata(runner: Runner, flavor: DnfFlavor, options: DnfDumpOptions = {}): Promise<{ source: PoolSource; warnings: string[] }> {
  const argv = ['dnf', ...(options.extraArgs ?? []), '--quiet', 'repoquery', '--available', flavor === 'dnf5' ? '--queryformat' : '--qf', QUERY_FORMAT];
  let text: string;
  try {
    text = (await runner.run(argv, { timeoutMs: 600_000, env: { LC_ALL: 'C.UTF-8' } })).stdout;
  } catch (err) {
    if (err instanceof CommandNotFoundError) throw new WizardError('dnf is not installed', 1, 'install dnf, or pass --repo NAME=PATH with an rpm-md repository');
    throw err;
  }
  const warnings: string[] = [];
  const arch = options.arch ?? 'x86_64';
  const builder = new PoolBuilder('rpm', arch);
  if (!parseDnfDump(text, builder, warnings)) throw new WizardError('dnf listed no available packages', 1, 'refresh the metadata with `dnf makecache` and check the configured repositories');
  return {
    source: {
      data: builder.finish(),
      // The dump has no file lists; ask dnf which packages own the wanted files.
      loadFiles: loadDnfFileOwners(runner, flavor, options.extraArgs ?? []),
    },
    warnings,
  };
}

export function loadDnfFileOwners(runner: Runner, flavor: DnfFlavor, extraArgs: string[]): NonNullable<PoolSource['loadFiles']> {
  return async (wanted) => {
    const found = new Map<string, string[]>();
    for (const file of wanted) {
      const argv = ['dnf', ...extraArgs, '--quiet', 'repoquery', '--available', flavor === 'dnf5' ? '--queryformat' : '--qf', '%{name}-%{evr}.%{arch}\\n', '--whatprovides', file];
      const out = (await runner.run(argv, { timeoutMs: 120_000 })).stdout;
      const keys = out.split('\n').map((l) => l.trim()).filter(Boolean).map((k) => k.replace(/-0:/, '-'));
      if (keys.length) found.set(file, keys);
    }
    return found;
  };
}
