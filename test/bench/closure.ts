/**
 * Closure benchmark on a Fedora-sized repository with a real graph: Debian's
 * dependency graph converted to rpm-md. Prints medians and the ratio to dnf.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { convertDebToRpmMd } from '../support/deb2rpmmd.js';
import { loadPool } from '../../src/packages/metadata.js';
import { resolve } from '../../src/packages/resolve.js';
import { systemRunner } from '../../src/system/run.js';
import { dnfTransaction } from '../../src/packages/verify.js';
import { Pool, PoolBuilder } from '../../src/packages/pool.js';

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

/** Adversarial graphs from issue 10: p0 requires p1 requires … pN. */
export function deepChainPool(n: number): Pool {
  const b = new PoolBuilder('rpm', 'x86_64');
  for (let i = 0; i <= n; i++) {
    b.add({ name: `p${i}`, arch: 'noarch', evr: '1.0-1', installSize: 1, repo: 'bench' });
    if (i < n) b.require(`p${i + 1}`);
  }
  return new Pool({ data: b.finish() });
}

/** `root` requires r0 … r(requirers-1), each of which requires "cap", which `providers` packages provide. */
export function manyProvidersPool(providers: number, requirers: number): Pool {
  const b = new PoolBuilder('rpm', 'x86_64');
  b.add({ name: 'root', arch: 'noarch', evr: '1.0-1', installSize: 1, repo: 'bench' });
  for (let j = 0; j < requirers; j++) b.require(`r${j}`);
  for (let j = 0; j < requirers; j++) {
    b.add({ name: `r${j}`, arch: 'noarch', evr: '1.0-1', installSize: 1, repo: 'bench' });
    b.require('cap');
  }
  for (let i = 0; i < providers; i++) {
    b.add({ name: `prov${String(i).padStart(5, '0')}`, arch: 'noarch', evr: '1.0-1', installSize: 1, repo: 'bench' });
    b.provide('cap', null, null);
  }
  return new Pool({ data: b.finish() });
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * One case per child process, so each peak RSS is that case's alone: the
 * bombs through decompress() with the real LIMITS, and the adversarial graphs
 * through resolve().
 */
const HOSTILE_CHILD = `
const [kind, file] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const src = (m) => import(${JSON.stringify(path.join(REPO_ROOT, 'src'))} + '/' + m);
const started = performance.now();
let detail = '';
if (kind === 'bomb') {
  const { decompress } = await src('decompress.ts');
  const data = readFileSync(file);
  try {
    const out = await decompress(data, file.split('/').pop());
    detail = 'ACCEPTED ' + out.length + ' bytes';
  } catch (err) {
    detail = (err.name === 'InputError' ? 'refused (exit 2): ' : 'CRASH: ') + err.message.replace(/^\\S+: /, '');
  }
} else {
  const { deepChainPool, manyProvidersPool } = await import(${JSON.stringify(path.join(REPO_ROOT, 'test', 'bench', 'closure.ts'))});
  const { resolve } = await src('packages/resolve.ts');
  const pool = kind === 'chain' ? deepChainPool(20000) : manyProvidersPool(10000, 1000);
  const closure = resolve(pool, [kind === 'chain' ? 'p0' : 'root']);
  const resolved = performance.now() - started;
  const deepest = closure.packages[closure.packages.length - 1].why;
  detail = closure.count + ' packages, resolve ' + resolved.toFixed(0) + ' ms, why of ' + closure.packages[closure.packages.length - 1].name + ': ' + deepest.length + ' entries in ' + (performance.now() - started - resolved).toFixed(1) + ' ms';
}
console.log(JSON.stringify({ ms: performance.now() - started, rssMB: process.resourceUsage().maxRSS / 1024, detail }));
`;

function runHostileChild(script: string, args: string[]): { ms: number; rssMB: number; detail: string } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as { ms: number; rssMB: number; detail: string };
}

/** A zstd frame with no declared size: RLE blocks of 128 KiB, four bytes each. */
function zstdRleBomb(blocks: number): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3])];
  for (let i = 0; i < blocks; i++) {
    const header = (i === blocks - 1 ? 1 : 0) | (1 << 1) | ((128 * 1024) << 3);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, 0x20]));
  }
  return Buffer.concat(parts);
}

export async function hostileBench(): Promise<void> {
  console.log('\n## Hostile package metadata (issue 10): each case in its own process; peak RSS is that process\'s maxRSS');
  const work = await mkdtemp(path.join(os.tmpdir(), 'iw-bench-hostile-'));
  try {
    const script = path.join(work, 'case.mjs');
    await writeFile(script, HOSTILE_CHILD);
    const { gzipSync } = await import('node:zlib');
    const bombs: Array<[string, string, string | null]> = [];
    const member = gzipSync(Buffer.alloc(1 << 20, 0x20), { level: 9 });
    const gz = path.join(work, 'bomb-1GiB.xml.gz');
    await writeFile(gz, Buffer.concat(Array.from({ length: 1024 }, () => member)));
    bombs.push(['gzip, 1 GiB of output', gz, 'gzip']);
    const zst = path.join(work, 'bomb-1GiB.xml.zst');
    await writeFile(zst, zstdRleBomb(8192));
    bombs.push(['zstd, 1 GiB, no declared size', zst, 'zstd']);
    const declared = path.join(work, 'bomb-declared-16EiB.xml.zst');
    await writeFile(declared, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0]));
    bombs.push(['zstd, header declares 2^64 bytes', declared, null]);
    if (spawnSync('xz', ['--version'], { stdio: 'ignore' }).status === 0) {
      const xz = path.join(work, 'bomb-1GiB.xml.xz');
      execFileSync('sh', ['-c', 'head -c 1073741824 /dev/zero | xz -0 -T1 -c > "$1"', 'sh', xz]);
      bombs.push(['xz, 1 GiB of output', xz, 'xz']);
    }
    for (const [label, file, tool] of bombs) {
      const size = (await readFile(file)).length;
      const r = runHostileChild(script, ['bomb', file]);
      console.log(`${label.padEnd(34)} ${(size / 1024).toFixed(0).padStart(6)} KiB file: ${ms(r.ms).padStart(6)} ms, peak RSS ${r.rssMB.toFixed(0).padStart(4)} MB; ${r.detail}`);
      // What the file really holds: the distribution's own decompressor, in the same run, expands all of it.
      if (tool && spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0) {
        const t0 = performance.now();
        const out = execFileSync('sh', ['-c', `${tool} -dc "$1" | wc -c`, 'sh', file], { encoding: 'utf8' }).trim();
        const t = performance.now() - t0;
        console.log(`${''.padEnd(34)} ${tool} -dc | wc -c: ${(Number(out) / 1024 / 1024).toFixed(0)} MiB in ${ms(t)} ms; refusing took ${(r.ms / t).toFixed(2)}x of that`);
      }
    }
    for (const [label, kind] of [['20,000-deep Requires chain', 'chain'], ['10,000 providers x 1,000 requirers', 'providers']] as const) {
      const r = runHostileChild(script, [kind]);
      console.log(`${label.padEnd(34)} ${ms(r.ms).padStart(6)} ms, peak RSS ${r.rssMB.toFixed(0).padStart(4)} MB; ${r.detail}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
