/**
 * The host's configured repositories through dnf: one repoquery dump of every
 * available package. dnf4 and dnf5 both take --queryformat; multi-valued tags
 * come newline-joined, so records are framed with marker lines.
 *
 * Which dnf: mkosi's own choice (mkosi/installer/dnf.py): `dnf5` when it is
 * installed, else `dnf`. On Fedora 41+ both names are dnf5; a host with dnf5
 * alone (Debian's dnf5 package ships only /usr/bin/dnf5) has no `dnf`. The
 * flavour, read from `--version`, decides the spelling of options.
 */
import { parseCap } from './deps.js';
import { PoolBuilder, type PoolSource } from './pool.js';
import { formatEvr } from './version.js';
import type { Runner } from '../system/run.js';
import { CommandNotFoundError } from '../system/run.js';
import { WizardError } from '../errors.js';
import { rpmInstallable } from './arch.js';

export type DnfFlavor = 'dnf4' | 'dnf5';

/** The dnf this host runs: the command to call and what it is. */
export interface DnfTool {
  flavor: DnfFlavor;
  /** 'dnf5' or 'dnf'. */
  command: string;
  /** As `--version` printed it (e.g. 4.14.0, 5.4.6.0); empty when not asked. */
  version?: string;
}

/** The command for a flavour when only the flavour is known: dnf5 always ships /usr/bin/dnf5. */
export function dnfCommand(flavor: DnfFlavor, command?: string): string {
  return command ?? (flavor === 'dnf5' ? 'dnf5' : 'dnf');
}

/** "Alias for --queryformat" in dnf5; dnf4 spells it --qf (and accepts --queryformat too). */
export function queryFormatFlag(flavor: DnfFlavor): string {
  return flavor === 'dnf5' ? '--queryformat' : '--qf';
}

/**
 * dnf5 reads no file lists unless told (file requirements outside primary.xml's paths then fail with
 * "nothing provides /usr/share/…"); mkosi writes optional_metadata_types=filelists into its dnf.conf
 * for dnf5, so builds resolve them. dnf4 always reads them.
 */
export function fileListArgs(flavor: DnfFlavor): string[] {
  return flavor === 'dnf5' ? ['--setopt=optional_metadata_types=filelists'] : [];
}

const SECTIONS = ['PROVIDES', 'REQUIRES', 'RECOMMENDS', 'OBSOLETES'] as const;
export const QUERY_FORMAT =
  '@@IW-PKG@@\\n%{name}\\n%{epoch}\\n%{version}\\n%{release}\\n%{arch}\\n%{installsize}\\n%{reponame}\\n' +
  SECTIONS.map((s) => `@@IW-${s}@@\\n%{${s.toLowerCase()}}\\n`).join('') +
  '@@IW-END@@\\n';

/** `dnf --version`: dnf5 prints "dnf5 version 5.4.6.0" (then its plugins), dnf4 the bare version ("4.14.0"). */
export function parseDnfVersion(out: string): { flavor: DnfFlavor; version: string } {
  const five = /dnf5 version (\S+)/i.exec(out);
  if (five || /dnf5/i.test(out)) return { flavor: 'dnf5', version: five?.[1] ?? '' };
  const four = /^\s*(\d+(?:\.\d+)+)/m.exec(out);
  return { flavor: four && four[1]!.startsWith('5.') ? 'dnf5' : 'dnf4', version: four?.[1] ?? '' };
}

/** mkosi's order: dnf5 if installed, else dnf (whatever it is). Null when neither is. */
export async function detectDnf(runner: Runner): Promise<DnfTool | null> {
  for (const command of ['dnf5', 'dnf']) {
    let out: string;
    try {
      out = (await runner.run([command, '--version'], { timeoutMs: 30_000, env: { LC_ALL: 'C.UTF-8' } })).stdout;
    } catch (err) {
      if (err instanceof CommandNotFoundError) continue;
      throw err;
    }
    return { command, ...parseDnfVersion(out) };
  }
  return null;
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
    if (!rpmInstallable(builder.arch, arch)) continue;
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
  /** The command to run ('dnf5' or 'dnf'); by default the flavour's own name. */
  command?: string;
}

/** One repoquery over every available package; file requirements are answered by dnf itself afterwards. */
export async function loadDnfMetadata(runner: Runner, flavor: DnfFlavor, options: DnfDumpOptions = {}): Promise<{ source: PoolSource; warnings: string[] }> {
  const command = dnfCommand(flavor, options.command);
  const argv = [command, ...(options.extraArgs ?? []), '--quiet', 'repoquery', '--available', queryFormatFlag(flavor), QUERY_FORMAT];
  let text: string;
  try {
    text = (await runner.run(argv, { timeoutMs: 600_000, env: { LC_ALL: 'C.UTF-8' } })).stdout;
  } catch (err) {
    if (err instanceof CommandNotFoundError) throw new WizardError(`${command} is not installed`, { hint: 'install dnf, or pass --repo NAME=PATH with an rpm-md repository' });
    throw err;
  }
  const warnings: string[] = [];
  const arch = options.arch ?? 'x86_64';
  const builder = new PoolBuilder('rpm', arch);
  if (!parseDnfDump(text, builder, warnings)) throw new WizardError(`${command} listed no available packages`, { hint: `refresh the metadata with \`${command} makecache\` and check the configured repositories` });
  return {
    source: {
      data: builder.finish(),
      // The dump has no file lists; ask dnf which packages own the wanted files.
      loadFiles: loadDnfFileOwners(runner, flavor, options.extraArgs ?? [], command),
    },
    warnings,
  };
}

export function loadDnfFileOwners(runner: Runner, flavor: DnfFlavor, extraArgs: string[], command?: string): NonNullable<PoolSource['loadFiles']> {
  const cmd = dnfCommand(flavor, command);
  return async (wanted) => {
    const found = new Map<string, string[]>();
    for (const file of wanted) {
      const argv = [cmd, ...extraArgs, ...fileListArgs(flavor), '--quiet', 'repoquery', '--available', queryFormatFlag(flavor), '%{name}-%{evr}.%{arch}\\n', '--whatprovides', file];
      const out = (await runner.run(argv, { timeoutMs: 120_000, env: { LC_ALL: 'C.UTF-8' } })).stdout;
      const keys = out.split('\n').map((l) => l.trim()).filter(Boolean).map((k) => k.replace(/-0:/, '-'));
      if (keys.length) found.set(file, keys);
    }
    return found;
  };
}
