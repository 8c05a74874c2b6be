/**
 * The distro's own resolver, for `closure --verify` and for our tests: dnf's
 * (dnf5's or dnf4's) transaction into an empty install root (weak dependencies off), or apt's
 * simulation from an empty dpkg status.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommandFailedError, type Runner } from '../system/run.js';
import { WizardError } from '../errors.js';
import type { RepoRef } from './rpmmd.js';
import { detectDnf, fileListArgs, type DnfTool } from './dnf.js';

export interface VerifyResult {
  /** The tool that answered: dnf (dnf4), dnf5 or apt. */
  resolver: 'dnf' | 'dnf5' | 'apt';
  packages: string[];
}

const ARCHES = /^(noarch|x86_64|i686|i586|i386|aarch64|armv7hl|ppc64le|ppc64|s390x|riscv64|loongarch64)$/;

/**
 * Package names from the transaction table's "Installing…:" sections, dnf4's and dnf5's:
 *   dnf4: "Installing:" / "Installing dependencies:" / "Installing weak dependencies:", rows
 *         " name  arch  version  repo  size"; a name too long for its column wraps onto a line of its
 *         own (the next line starts with the arch); obsoletes add "     replacing  old.arch  evr" rows.
 *   dnf5: a "Package  Arch  Version  Repository  Size" header, the same section titles, rows
 *         " name  arch  epoch:version  repo  size" (never wrapped), "   replacing old …" rows, then
 *         "Transaction Summary:" whose " Installing:  N packages" lines are not rows.
 */
export function parseDnfTransaction(out: string): string[] {
  const names: string[] = [];
  let inSection = false;
  for (const line of out.split('\n')) {
    if (/^(Installing|Upgrading|Reinstalling|Downgrading)( dependencies| weak dependencies)?:\s*$/.test(line) || /^Installing group\/module packages:/.test(line)) {
      inSection = true;
      continue;
    }
    if (!line.startsWith(' ')) {
      inSection = false;
      continue;
    }
    if (!inSection) continue;
    const fields = line.trim().split(/\s+/);
    const first = fields[0];
    // A wrapped row: the name alone, the rest on the next line (which starts with the arch).
    if (!first || ARCHES.test(first) || first === 'replacing') continue;
    names.push(first);
  }
  return [...new Set(names)].sort();
}

export interface DnfTransactionOptions {
  weak?: boolean;
  /** The host's own repositories (dnf's configuration) instead of `repos`. */
  hostRepos?: boolean;
  /** Which dnf to ask; detected (dnf5 first, like mkosi) when not given. */
  dnf?: DnfTool;
  /** The target's rpm architecture when it is not this machine's (dnf's --forcearch). */
  forcearch?: string;
}

/** The argv of `install --assumeno PKGS` into the empty root `root`, spelled for the flavour. */
export function dnfTransactionArgv(dnf: DnfTool, root: string, tmp: string, conf: string, repos: RepoRef[], packages: string[], opts: DnfTransactionOptions = {}): string[] {
  const weak = `--setopt=install_weak_deps=${opts.weak ? 'True' : 'False'}`;
  const install = [...(opts.forcearch ? [`--forcearch=${opts.forcearch}`] : []), 'install', '--assumeno', ...packages];
  const repoArgs = [...repos.flatMap((r) => [`--repofrompath=${r.name},${path.resolve(r.dir)}`, `--setopt=${r.name}.gpgcheck=0`]), `--repo=${repos.map((r) => r.name).join(',')}`];
  if (dnf.flavor === 'dnf5') {
    // dnf5 reads its configuration, repositories and variables from the install root unless told
    // --use-host-config (an empty root has none: "No repositories were loaded from the installroot").
    // Its default reposdir also covers /usr/share/dnf5/repos.d, where newer Fedora ships its repositories:
    // the host's configuration as the repoquery dump saw it. File lists as mkosi loads them for dnf5.
    if (opts.hostRepos) return [dnf.command, `--installroot=${root}`, '--use-host-config', weak, ...fileListArgs('dnf5'), ...install];
    return [dnf.command, `--config=${conf}`, '--releasever=39', `--installroot=${root}`, `--setopt=cachedir=${path.join(tmp, 'cache')}`, weak, ...fileListArgs('dnf5'), '--no-plugins', ...repoArgs, ...install];
  }
  // Host repositories: dnf's own configuration; test and --repo repositories: a private one.
  if (opts.hostRepos) return [dnf.command, `--installroot=${root}`, weak, '--setopt=reposdir=/etc/yum.repos.d,/etc/distro.repos.d', ...install];
  return [dnf.command, '-c', conf, '--releasever=39', `--installroot=${root}`, `--setopt=cachedir=${path.join(tmp, 'cache')}`, weak, '--disableplugin=*', ...repoArgs, ...install];
}

export async function dnfTransaction(runner: Runner, repos: RepoRef[], packages: string[], opts: DnfTransactionOptions = {}): Promise<VerifyResult> {
  if (process.getuid?.() !== 0) {
    throw new WizardError('--verify with dnf needs root (dnf resolves into an empty install root)', { hint: 'run it with sudo, or leave out --verify' });
  }
  const dnf = opts.dnf ?? (await detectDnf(runner));
  if (!dnf) throw new WizardError('--verify needs dnf5 or dnf, and neither is installed', { hint: 'install dnf5 (or dnf), or leave out --verify' });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'initrd-wizard-dnf-'));
  try {
    const conf = path.join(tmp, 'dnf.conf');
    const root = path.join(tmp, 'root');
    await mkdir(root);
    await writeFile(conf, `[main]\ngpgcheck=0\nreposdir=/dev/null\ninstall_weak_deps=${opts.weak ? 'True' : 'False'}\nkeepcache=0\n`);
    const argv = dnfTransactionArgv(dnf, root, tmp, conf, repos, packages, opts);
    let out: string;
    let err = '';
    try {
      const r = await runner.run(argv, { timeoutMs: 300_000, okExitCodes: [1], env: { COLUMNS: '200', LC_ALL: 'C.UTF-8' } });
      out = r.stdout;
      err = r.stderr;
    } catch (e) {
      throw e instanceof CommandFailedError ? new WizardError(`${dnf.command} could not resolve the request: ${e.stderr.trim().split('\n').slice(-4).join(' ')}`) : e;
    }
    // dnf4 ends with "Operation aborted." on stdout; dnf5 prints its table and "Transaction Summary:" on
    // stdout and "Operation aborted by the user." on stderr. A failed resolution has neither table nor
    // summary (dnf5: "Failed to resolve the transaction:" and the problems on stderr).
    if (!/Operation aborted|Transaction Summary/.test(out)) {
      const why = `${out}\n${err}`.split('\n').filter((l) => /Problem|nothing provides|conflicts|No match/.test(l)).map((l) => l.trim()).join(' ').trim();
      throw new WizardError(`${dnf.command} could not resolve the request${why ? `: ${why}` : ''}`);
    }
    return { resolver: dnf.flavor === 'dnf5' ? 'dnf5' : 'dnf', packages: parseDnfTransaction(out) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** apt's simulation (`apt-get -s install`) from an empty dpkg status: what apt would install on an empty system. */
export async function aptSimulation(runner: Runner, packages: string[], opts: { weak?: boolean; /** Extra `-o` settings (another architecture, private lists …). */ options?: string[] } = {}): Promise<VerifyResult> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'initrd-wizard-apt-'));
  try {
    const status = path.join(tmp, 'status');
    await writeFile(status, '');
    const argv = [
      'apt-get', '-s', '-q',
      '-o', `Dir::State::status=${status}`,
      '-o', `APT::Install-Recommends=${opts.weak ? 'true' : 'false'}`,
      '-o', 'APT::Install-Suggests=false',
      '-o', 'Debug::NoLocking=1',
      ...(opts.options ?? []).flatMap((o) => ['-o', o]),
      'install', ...packages,
    ];
    let out: string;
    try {
      out = (await runner.run(argv, { timeoutMs: 300_000, env: { LC_ALL: 'C' } })).stdout;
    } catch (err) {
      if (err instanceof CommandFailedError) {
        throw new WizardError(`apt could not resolve the request: ${(err.stdout + err.stderr).trim().split('\n').filter((l) => /Depends|E:|unmet|Unable/.test(l)).slice(0, 6).join(' ')}`);
      }
      throw err;
    }
    const names = [...out.matchAll(/^Inst (\S+)/gm)].map((m) => m[1]!.replace(/:\w+$/, ''));
    return { resolver: 'apt', packages: [...new Set(names)].sort() };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
