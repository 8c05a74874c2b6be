/**
 * Closure benchmark on a Fedora-sized repository with a real graph: Debian's
 * dependency graph converted to rpm-md. Prints medians and the ratio to dnf.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { convertDebToRpmMd } from '../support/deb2rpmmd.js';
import { arm64Packages, arm64Unavailable } from '../support/arm64-lists.js';
import { loadPool } from '../../src/packages/metadata.js';
import { resolve } from '../../src/packages/resolve.js';
import { systemRunner } from '../../src/system/run.js';
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

/** The request of issue 13's whole-process comparison (the Debian base + luks + lvm + raid variant). */
export const REQUEST = 'systemd udev bash less gzip kmod dmsetup libcryptsetup12 libseccomp2 btrfs-progs e2fsprogs dosfstools procps util-linux mount libfido2-1 libfdisk1 lvm2 mdadm'.split(' ');

/** Debian sid chroot with dnf5 5.x (test/support/toolchain.ts makes it). */
const SID = process.env.IW_SID_CHROOT || '/var/tmp/tc-sid';
const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin', 'initrd-wizard.js');

interface Run {
  ms: number;
  rssMB: number;
  stdout: string;
}

/** One whole process, wall time and peak RSS (GNU time's %M; a chroot execs its command, so that is dnf5's). */
function runProcess(argv: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const timed = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '@rss %M', ...argv] : argv;
  const t = performance.now();
  const r = spawnSync(timed[0]!, timed.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const rss = /@rss (\d+)\s*$/.exec(r.stderr);
  return { ms, rssMB: rss ? Number(rss[1]) / 1024 : NaN, stdout: r.stdout };
}

interface Contender {
  name: string;
  /** Makes the next run cold (its metadata cache gone) or leaves it warm. */
  prepare: (cold: boolean) => void;
  run: () => Run;
  /** The package count its output states (dnf's repoquery follows every provider, so it lists a few more). */
  count: (r: Run) => number;
}

/**
 * Whole-process `closure --json` (our bundled CLI) next to dnf4's and dnf5's
 * repoquery for the same request on the same repository. Runs alternate
 * between the tools (and rotate who goes first), so the load of a busy machine
 * falls on all of them alike; the ratios are medians of per-round ratios.
 */
async function wholeProcessBench(repoDir: string, work: string, arch: string | null): Promise<void> {
  // Another architecture is asked of each tool as its users ask: --arch here, --forcearch of dnf.
  const ourArch = arch ? ['--arch', arch] : [];
  const forceArch = arch ? [`--forcearch=${arch}`] : [];
  const rounds = Number(process.env.IW_BENCH_ROUNDS || 5);
  console.log(`\n## Whole process, ${REQUEST.length} packages requested: cold (no metadata cache) and warm, ${rounds} alternating rounds (goals: warm >= 3x dnf4 and >= 2.5x dnf5; cold >= 1.5x dnf4 and >= 1x dnf5; peak RSS <= 160 MB)`);
  if (!existsSync(CLI_PATH)) {
    console.log(`skipped: ${CLI_PATH} missing (node scripts/build.mjs)`);
    return;
  }
  const ourCache = path.join(work, 'xdg');
  const contenders: Contender[] = [
    {
      name: 'ours',
      prepare: (cold) => void (cold && rmSync(ourCache, { recursive: true, force: true })),
      run: () => runProcess([process.execPath, CLI_PATH, 'closure', '--json', ...ourArch, '--repo', `g=${repoDir}`, '--packages', REQUEST.join(',')], { ...process.env, XDG_CACHE_HOME: ourCache }),
      count: (r) => (JSON.parse(r.stdout) as { count: number }).count,
    },
  ];
  if (spawnSync('dnf', ['--version'], { stdio: 'ignore' }).status === 0) {
    const cache = path.join(work, 'dnf4cache');
    contenders.push({
      name: 'dnf4',
      prepare: (cold) => void (cold && rmSync(cache, { recursive: true, force: true })),
      run: () =>
        runProcess(['dnf', '-q', ...forceArch, '--disableplugin=*', '--setopt=reposdir=/nonexistent', `--setopt=cachedir=${cache}`, `--repofrompath=g,${repoDir}`, '--repo=g', '--setopt=g.gpgcheck=0', 'repoquery', '--requires', '--resolve', '--recursive', ...REQUEST]),
      count: (r) => r.stdout.split('\n').filter(Boolean).length,
    });
  } else console.log('dnf4: skipped (dnf not installed)');
  if (existsSync(path.join(SID, 'usr/bin/dnf5')) && process.getuid?.() === 0) {
    // The repository copied into the chroot once (dnf5 there cannot see the host's paths).
    const inside = `/var/tmp/iw-bench-graph${arch ? `-${arch}` : ''}`;
    const primary = (dir: string) => readdirSync(path.join(dir, 'repodata')).filter((f) => f.endsWith('primary.xml.gz')).join();
    if (!existsSync(path.join(SID, inside, 'repodata')) || primary(path.join(SID, inside)) !== primary(repoDir)) {
      rmSync(path.join(SID, inside), { recursive: true, force: true });
      execFileSync('cp', ['-a', repoDir, path.join(SID, inside)]);
    }
    const cache = `/var/tmp/iw-bench-dnf5-cache${arch ? `-${arch}` : ''}`;
    contenders.push({
      name: 'dnf5',
      prepare: (cold) => void (cold && rmSync(path.join(SID, cache), { recursive: true, force: true })),
      run: () =>
        runProcess(['chroot', SID, 'dnf5', '-q', ...forceArch, '--setopt=reposdir=/nonexistent', `--setopt=cachedir=${cache}`, '--setopt=optional_metadata_types=', `--repofrompath=g,${inside}`, '--repo=g', '--setopt=g.gpgcheck=0', 'repoquery', '--providers-of=requires', '--recursive', ...REQUEST]),
      count: (r) => r.stdout.split('\n').filter(Boolean).length,
    });
  } else console.log(`dnf5: skipped (${existsSync(path.join(SID, 'usr/bin/dnf5')) ? 'chroot needs root' : `no ${SID}/usr/bin/dnf5`})`);

  // Node's own start, in the same rounds: no Node program can finish sooner, so dnf's time over it is the best ratio any could reach.
  contenders.push({ name: 'node', prepare: () => undefined, run: () => runProcess([process.execPath, '-e', '0']), count: () => 0 });
  for (const cold of [true, false]) {
    const runs = new Map<string, Run[]>(contenders.map((c) => [c.name, []]));
    if (!cold) for (const c of contenders) {
      c.prepare(true);
      c.run(); // fills the cache
    }
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(i + k) % contenders.length]!;
        c.prepare(cold);
        const r = c.run();
        runs.get(c.name)!.push(r);
      }
    }
    const ours = runs.get('ours')!;
    const label = cold ? 'cold' : 'warm';
    const floor = runs.get('node')!;
    for (const c of contenders) {
      const rs = runs.get(c.name)!;
      const times = rs.map((r) => r.ms);
      if (c.name === 'node') {
        const best = contenders.filter((d) => d.name.startsWith('dnf')).map((d) => `${d.name} ${median(runs.get(d.name)!.map((r, i) => r.ms / floor[i]!.ms)).toFixed(2)}x`);
        console.log(`${label} node  median ${ms(median(times)).padStart(5)} ms: \`node -e 0\`, the floor of any Node program; the most any could be faster: ${best.join(', ') || 'n/a'}`);
        continue;
      }
      const ratio = c.name === 'ours' ? '' : `  ours is ${median(rs.map((r, i) => r.ms / ours[i]!.ms)).toFixed(2)}x faster (median of per-round ratios)`;
      console.log(`${label} ${c.name.padEnd(5)} median ${ms(median(times)).padStart(5)} ms (min ${ms(Math.min(...times))}, max ${ms(Math.max(...times))}), peak RSS ${median(rs.map((r) => r.rssMB)).toFixed(0)} MB, ${c.count(rs[0]!)} packages${ratio}`);
    }
  }
}

/** The whole-process comparison, then in-process load, resolve and toggles, on one graph. */
async function graphBench(repoDir: string, work: string, arch: string | null): Promise<void> {
  await wholeProcessBench(repoDir, work, arch);
  const spec = { kind: 'rpm-md' as const, repos: [{ name: 'debgraph', dir: repoDir }] };
  const target = arch ? { arch } : {};
  const cacheDir = path.join(work, `cache-${arch ?? 'native'}`);
  const cold = await timeIt(3, () => loadPool(spec, { runner: systemRunner, cacheDir: null, ...target }));
  await loadPool(spec, { runner: systemRunner, cacheDir, ...target });
  const warm = await timeIt(5, () => loadPool(spec, { runner: systemRunner, cacheDir, ...target }));
  const { pool } = await loadPool(spec, { runner: systemRunner, cacheDir, ...target });
  const first = resolve(pool, VARIANT);
  const full = await timeIt(20, () => resolve(pool, VARIANT));
  const toggles = await timeIt(50, () => {
    const i = Math.floor(Math.random() * VARIANT.length);
    resolve(pool, VARIANT.filter((_, j) => j !== i));
  });
  const add = await timeIt(20, () => resolve(pool, [...VARIANT, 'nfs-common']));
  console.log(`in-process cold load (no cache)  median ${ms(median(cold))} ms`);
  console.log(`in-process warm load (cache)     median ${ms(median(warm))} ms`);
  console.log(`resolve full variant             median ${ms(median(full))} ms (${first.count} packages, ${(first.installSize / 1048576).toFixed(1)} MiB)`);
  console.log(`re-resolve after toggle          median ${ms(median(toggles))} ms, p95 ${ms([...toggles].sort((a, b) => a - b)[Math.floor(toggles.length * 0.95)]!)} ms (remove one) / ${ms(median(add))} ms (add one)`);
}

export async function closureBench(): Promise<void> {
  console.log('\n## Closure on Debian\'s graph as rpm-md (in process: cold <= 2 s, warm <= 300 ms, toggle <= 20 ms)');
  const work = await mkdtemp(path.join(os.tmpdir(), 'iw-bench-'));
  try {
    // A converted graph made earlier (IW_GRAPH_REPO, or /var/tmp/iw-graph/repo), else converted now from apt's lists.
    let repoDir = process.env.IW_GRAPH_REPO || '/var/tmp/iw-graph/repo';
    if (!existsSync(path.join(repoDir, 'repodata', 'repomd.xml'))) {
      if (spawnSync('apt-cache', ['--version'], { stdio: 'ignore' }).status !== 0) {
        console.log('skipped: no converted graph and apt-cache not available');
        return;
      }
      repoDir = path.join(work, 'repo');
      const t0 = performance.now();
      const { packages } = await convertDebToRpmMd(execFileSync('apt-cache', ['-o', 'Dir::State::status=/dev/null', 'dumpavail'], { encoding: 'utf8', maxBuffer: 1 << 30 }), repoDir);
      console.log(`repository: ${packages} packages (converted in ${ms(performance.now() - t0)} ms)`);
    } else console.log(`repository: ${repoDir}`);
    await graphBench(repoDir, work, null);

    console.log('\n## The same on Debian bookworm\'s arm64 graph as rpm-md, for aarch64 (ours --arch aarch64, dnf --forcearch=aarch64)');
    const offline = await arm64Unavailable();
    if (offline) {
      console.log(`skipped: ${offline}`);
      return;
    }
    const armDir = path.join(work, 'repo-arm64');
    const { packages } = await convertDebToRpmMd(await arm64Packages(), armDir, 'arm64');
    console.log(`repository: ${packages} packages`);
    await graphBench(armDir, work, 'aarch64');
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
