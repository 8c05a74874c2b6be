/**
 * Closure benchmark on a Fedora-sized repository with a real graph: Debian's
 * dependency graph converted to rpm-md. Prints medians and the ratio to dnf.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { convertDebToRpmMd } from '../support/deb2rpmmd.js';
import { loadPool } from '../../src/packages/metadata.js';
import { resolve } from '../../src/packages/resolve.js';
import { systemRunner } from '../../src/system/run.js';
import { dnfTransaction } from '../../src/packages/verify.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));

/** The Debian base + luks + lvm + raid + tpm2 variant: a realistic full request. */
export const VARIANT = 'systemd udev bash less gzip kmod dmsetup libcryptsetup12 libseccomp2 btrfs-progs e2fsprogs dosfstools procps util-linux mount libfido2-1 libfdisk1 libtss2-esys-3.0.2-0 libtss2-mu0 libtss2-rc0 libtss2-tcti-device0 lvm2 mdadm'.split(' ');

async function timeIt(n: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

export async function closureBench(): Promise<void> {
  console.log('\n## Closure on Debian\'s graph as rpm-md (targets: cold <= 2 s, warm <= 300 ms, toggle <= 20 ms, RSS <= 300 MB, >= 10x dnf repoquery)');
  if (spawnSync('apt-cache', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('skipped: apt-cache not available');
    return;
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'iw-bench-'));
  try {
    const repoDir = path.join(work, 'repo');
    const t0 = performance.now();
    const { packages } = await convertDebToRpmMd(execFileSync('apt-cache', ['-o', 'Dir::State::status=/dev/null', 'dumpavail'], { encoding: 'utf8', maxBuffer: 1 << 30 }), repoDir);
    console.log(`repository: ${packages} packages (converted in ${ms(performance.now() - t0)} ms)`);
    const spec = { kind: 'rpm-md' as const, repos: [{ name: 'debgraph', dir: repoDir }] };
    const cacheDir = path.join(work, 'cache');

    const cold = await timeIt(3, () => loadPool(spec, { runner: systemRunner, cacheDir: null }));
    await loadPool(spec, { runner: systemRunner, cacheDir });
    const warm = await timeIt(5, () => loadPool(spec, { runner: systemRunner, cacheDir }));
    const { pool } = await loadPool(spec, { runner: systemRunner, cacheDir });
    const first = resolve(pool, VARIANT);
    const full = await timeIt(20, () => resolve(pool, VARIANT));
    const toggles = await timeIt(50, () => {
      const i = Math.floor(Math.random() * VARIANT.length);
      resolve(pool, VARIANT.filter((_, j) => j !== i));
    });
    const add = await timeIt(20, () => resolve(pool, [...VARIANT, 'nfs-common']));
    console.log(`cold load (no cache)     median ${ms(median(cold))} ms`);
    console.log(`warm load (cache)        median ${ms(median(warm))} ms`);
    console.log(`resolve full variant     median ${ms(median(full))} ms (${first.count} packages, ${(first.installSize / 1048576).toFixed(1)} MiB)`);
    console.log(`re-resolve after toggle  median ${ms(median(toggles))} ms, p95 ${ms([...toggles].sort((a, b) => a - b)[Math.floor(toggles.length * 0.95)]!)} ms (remove one) / ${ms(median(add))} ms (add one)`);

    // Peak RSS of a process that does exactly what the closure command does: warm load + resolve.
    const script = path.join(work, 'rss.mjs');
    await writeFile(script, `
      const { loadPool } = await import(${JSON.stringify(path.resolve('src/packages/metadata.ts'))});
      const { resolve } = await import(${JSON.stringify(path.resolve('src/packages/resolve.ts'))});
      const { systemRunner } = await import(${JSON.stringify(path.resolve('src/system/run.ts'))});
      const { pool } = await loadPool(${JSON.stringify(spec)}, { runner: systemRunner, cacheDir: ${JSON.stringify(process.env.RSS_COLD ? null : cacheDir)} });
      resolve(pool, ${JSON.stringify(VARIANT)});
      console.log(process.resourceUsage().maxRSS);`);
    const rssWarm = Number(execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' }).trim()) / 1024;
    const rssCold = Number(execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', env: { ...process.env, RSS_COLD: '1' } }).trim()) / 1024;
    console.log(`peak RSS                 ${rssWarm.toFixed(0)} MB warm, ${rssCold.toFixed(0)} MB cold`);

    const haveDnf = spawnSync('dnf', ['--version'], { stdio: 'ignore' }).status === 0;
    if (!haveDnf) {
      console.log('dnf comparison skipped: dnf not installed');
      return;
    }
    const conf = path.join(work, 'dnf.conf');
    await writeFile(conf, '[main]\ngpgcheck=0\nreposdir=/dev/null\ninstall_weak_deps=False\n');
    const dnfBase = ['-c', conf, '--releasever=39', `--setopt=cachedir=${path.join(work, 'dnfcache')}`, `--repofrompath=debgraph,${repoDir}`, '--repo=debgraph', '--setopt=debgraph.gpgcheck=0', '--quiet'];
    execFileSync('dnf', [...dnfBase, 'makecache'], { stdio: 'ignore' });
    let rqCount = 0;
    const repoquery = await timeIt(3, () => {
      rqCount = execFileSync('dnf', [...dnfBase, 'repoquery', '--requires', '--resolve', '--recursive', ...VARIANT], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n').filter(Boolean).length;
    });
    const ours = median(full);
    console.log(`dnf repoquery --recursive median ${ms(median(repoquery))} ms (${rqCount} packages: it follows every provider) → in-process resolve is ${(median(repoquery) / ours).toFixed(0)}x faster (${(median(repoquery) / (ours + median(warm))).toFixed(0)}x including the warm load)`);
    if (process.getuid?.() === 0) {
      let dnfSet: string[] = [];
      const install = await timeIt(3, async () => {
        dnfSet = (await dnfTransaction(systemRunner, [{ name: 'debgraph', dir: repoDir }], VARIANT)).packages;
      });
      const same = JSON.stringify(dnfSet) === JSON.stringify(first.packages.map((p) => p.name).sort());
      console.log(`dnf install --assumeno    median ${ms(median(install))} ms  → ${(median(install) / ours).toFixed(0)}x; package sets ${same ? 'IDENTICAL' : 'DIFFER'} (${dnfSet.length} vs ${first.count})`);
    } else {
      console.log('dnf install --assumeno: skipped (needs root)');
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
