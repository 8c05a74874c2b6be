/**
 * `fleet` at scale (issue 15): 3,000 hosts as snapshot directories and as
 * FILE.tar archives (target: within 5 s, one whole process), and 100,000
 * archives streamed (target: memory that does not grow with the hosts), each
 * with hosts/s and the process's peak RSS (GNU time's %M, threads included).
 * Beside it, what an administrator would run without `fleet`: a loop of
 * `detect --json` and `suggest --json` over the snapshots, timed on a sample
 * and given per host, so the ratio is from the same run.
 *
 * The hosts cycle through the real captures, as hard links (test/support/fleet.ts):
 * each is still opened and read on its own, as a distinct snapshot would be.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI } from '../helpers.js';
import { makeFleet } from '../support/fleet.js';

const TIME = '/usr/bin/time';

/** One whole `fleet DIR --json` process: wall time and peak RSS. */
function runFleet(dir: string, nodeArgs: string[] = []): { ms: number; rssMiB: number; hosts: number } {
  const t0 = performance.now();
  const r = spawnSync(TIME, ['-f', '%M', process.execPath, ...nodeArgs, CLI, 'fleet', dir, '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - t0;
  if (r.status !== 3 && r.status !== 0) throw new Error(`fleet exited ${r.status}: ${r.stderr.slice(-500)}`);
  const rssKiB = Number(/(\d+)\s*$/.exec(r.stderr)?.[1]);
  // The hosts counted from the document itself: every host was answered.
  const hosts = (JSON.parse(r.stdout) as { summary: { hosts: number } }).summary.hosts;
  return { ms, rssMiB: rssKiB / 1024, hosts };
}

/** What a shell loop of detect + suggest costs a host, from a sample of the captures. */
function loopPerHost(dir: string, sample: string[]): number {
  const t0 = performance.now();
  for (const host of sample) {
    for (const cmd of ['detect', 'suggest']) spawnSync(process.execPath, [CLI, cmd, '--json', '--snapshot', path.join(dir, host)], { stdio: 'ignore' });
  }
  return (performance.now() - t0) / sample.length;
}

export async function fleetBench(): Promise<void> {
  console.log('\n## fleet: many snapshots in one process (target: 3,000 hosts within 5 s; 100,000 streamed, memory flat)');
  if (!existsSync(TIME)) {
    console.log(`skipped: ${TIME} (Debian package "time") is needed to read the peak RSS`);
    return;
  }
  const work = path.join(process.env.TMPDIR ?? '/tmp', `iw-bench-fleet-${process.pid}`);
  try {
    console.log(`${'hosts'.padStart(8)} ${'form'.padEnd(5)} ${'seconds'.padStart(8)} ${'hosts/s'.padStart(8)} ${'peak RSS'.padStart(10)}  vs a detect+suggest loop`);
    const sizes: Array<[number, 'dir' | 'tar']> = [[3000, 'dir'], [3000, 'tar'], [Number(process.env.BENCH_FLEET_LARGE ?? 100_000), 'tar']];
    for (const [n, form] of sizes) {
      const dir = path.join(work, `${form}-${n}`);
      await makeFleet(dir, path.join(work, 'originals'), n, form);
      execFileSync('sync');
      const runs = n > 10_000 ? 1 : 3;
      const results = Array.from({ length: runs }, () => runFleet(dir));
      const best = results.reduce((a, b) => (b.ms < a.ms ? b : a));
      if (best.hosts !== n) throw new Error(`fleet answered ${best.hosts} hosts of ${n}`);
      const sample = (await readdir(dir)).sort().slice(0, 30);
      const perHost = n > 10_000 ? NaN : loopPerHost(dir, sample);
      const vs = Number.isNaN(perHost) ? '' : `  a loop: ${perHost.toFixed(0)} ms a host, ${((perHost * n) / 1000).toFixed(0)} s for all; fleet ${((perHost * n) / best.ms).toFixed(0)}x faster`;
      const target = n === 3000 ? (best.ms <= 5000 ? ' (within 5 s)' : ' (OVER 5 s)') : '';
      const row = (label: string, r: ReturnType<typeof runFleet>, extra: string) =>
        console.log(`${String(n).padStart(8)} ${label.padEnd(5)} ${(r.ms / 1000).toFixed(2).padStart(8)} ${((n / r.ms) * 1000).toFixed(0).padStart(8)} ${`${r.rssMiB.toFixed(0)} MiB`.padStart(10)}${extra}`);
      row(form, best, `${target}${vs}`);
      if (n > 10_000) {
        // Memory that does not grow with the hosts: the same run with V8's old generation capped (every thread) still completes.
        const capped = runFleet(dir, ['--max-old-space-size=64']);
        if (capped.hosts !== n) throw new Error(`fleet with a 64 MiB heap answered ${capped.hosts} hosts of ${n}`);
        row(form, capped, '  with --max-old-space-size=64: completes');
      }
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
