/**
 * The distro's own resolver, for `closure --verify` and for our tests: dnf's
 * transaction into an empty install root (weak dependencies off), or apt's
 * simulation from an empty dpkg status.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommandFailedError, type Runner } from '../system/run.js';
import { WizardError } from '../errors.js';
import type { RepoRef } from './rpmmd.js';

export interface VerifyResult {
  resolver: 'dnf' | 'apt';
  packages: string[];
}

/** Package names from dnf's "Installing…:" sections (names too long for their column wrap onto a line of their own). */
export function parseDnfTransaction(out: string): string[] {
  const names: string[] = [];
  let inSection = false;
  for (const line of out.split('\n')) {
    if (/^(Installing|Upgrading|Reinstalling)( dependencies| weak dependencies)?:\s*$/.test(line) || /^Installing group\/module packages:/.test(line)) {
      inSection = true;
      continue;
    }
    if (!line.startsWith(' ')) {
      inSection = false;
      continue;
    }
    if (!inSection) continue;
    const fields = line.trim().split(/\s+/);
    // A wrapped row: the name alone, the rest on the next line (which starts with the arch).
    if (fields.length >= 1 && fields[0] && !/^(noarch|x86_64|i686|aarch64|ppc64le|s390x)$/.test(fields[0]) ) names.push(fields[0]);
  }
  return [...new Set(names)].sort();
}

export async function dnfTransaction(runner: Runner, repos: RepoRef[], packages: string[], opts: { weak?: boolean; hostRepos?: boolean } = {}): Promise<VerifyResult> {
  if (process.getuid?.() !== 0) {
    throw new WizardError('--verify with dnf needs root (dnf resolves into an empty install root)', 1, 'run it with sudo, or leave out --verify');
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'initrd-wizard-dnf-'));
  try {
    const conf = path.join(tmp, 'dnf.conf');
    const root = path.join(tmp, 'root');
    await mkdir(root);
    await writeFile(conf, `[main]\ngpgcheck=0\nreposdir=/dev/null\ninstall_weak_deps=${opts.weak ? 'True' : 'False'}\nkeepcache=0\n`);
    // Host repositories: dnf's own configuration; test and --repo repositories: a private one.
    const argv = opts.hostRepos ? ['dnf', `--installroot=${root}`, '--setopt=install_weak_deps=' + (opts.weak ? 'True' : 'False'), '--setopt=reposdir=/etc/yum.repos.d,/etc/distro.repos.d', 'install', '--assumeno', ...packages] : ['dnf', '-c', conf, '--releasever=39', `--installroot=${root}`, `--setopt=cachedir=${path.join(tmp, 'cache')}`, '--setopt=install_weak_deps=' + (opts.weak ? 'True' : 'False'), '--disableplugin=*'];
    if (!opts.hostRepos) {
      for (const r of repos) argv.push(`--repofrompath=${r.name},${path.resolve(r.dir)}`, `--setopt=${r.name}.gpgcheck=0`);
      argv.push(`--repo=${repos.map((r) => r.name).join(',')}`, 'install', '--assumeno', ...packages);
    }
    let out: string;
    try {
      out = (await runner.run(argv, { timeoutMs: 300_000, okExitCodes: [1], env: { COLUMNS: '200', LC_ALL: 'C.UTF-8' } })).stdout;
    } catch (err) {
      throw err instanceof CommandFailedError ? new WizardError(`dnf could not resolve the request: ${err.stderr.trim().split('\n').slice(-4).join(' ')}`) : err;
    }
    if (!/Operation aborted|Transaction Summary/.test(out) ) {
      const why = out.split('\n').filter((l) => /Problem|nothing provides|conflicts|No match/.test(l)).join(' ').trim();
      throw new WizardError(`dnf could not resolve the request${why ? `: ${why}` : ''}`);
    }
    return { resolver: 'dnf', packages: parseDnfTransaction(out) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** apt's simulation (`apt-get -s install`) from an empty dpkg status: what apt would install on an empty system. */
export async function aptSimulation(runner: Runner, packages: string[], opts: { weak?: boolean } = {}): Promise<VerifyResult> {
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
