/**
 * `npm run bench`: prints the numbers the issues ask for. Targets are printed
 * beside the measurements; the bench reports, it does not fail the build.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { analyze } from '../../src/host/analyze.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { CLI, fixture, fixtureNames } from '../helpers.js';
import { closureBench, hostileBench } from './closure.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function fmt(ms: number): string {
  return ms < 10 ? ms.toFixed(3) : ms.toFixed(1);
}

async function detectionBench() {
  const names = await fixtureNames();
  const runs = 200;
  console.log(`\n## Detection, in-process (median of ${runs} runs; target <= 5 ms per snapshot)`);
  console.log(`${'fixture'.padEnd(28)} ${'load ms'.padStart(9)} ${'analyze ms'.padStart(11)}`);
  let worst = 0;
  for (const name of names) {
    const t0 = performance.now();
    const snap = await loadSnapshot(fixture(name));
    const load = performance.now() - t0;
    for (let i = 0; i < 20; i++) analyze(snap); // warm up the JIT
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      analyze(snap);
      times.push(performance.now() - s);
    }
    const m = median(times);
    worst = Math.max(worst, m);
    console.log(`${name.padEnd(28)} ${fmt(load).padStart(9)} ${fmt(m).padStart(11)}`);
  }
  if (names.length) console.log(`worst median: ${fmt(worst)} ms (${worst <= 5 ? 'within' : 'OVER'} the 5 ms target)`);
}

function processBench() {
  const runs = 15;
  console.log(`\n## Whole process: initrd-wizard detect --json on this host (median of ${runs}; target <= 250 ms)`);
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const s = performance.now();
    try {
      execFileSync(process.execPath, [CLI, 'detect', '--json'], { stdio: 'ignore' });
    } catch (err) {
      if ((err as { status?: number }).status !== 3) throw err;
    }
    if (i >= 2) times.push(performance.now() - s);
  }
  const m = median(times);
  console.log(`median ${fmt(m)} ms, min ${fmt(Math.min(...times))} ms, max ${fmt(Math.max(...times))} ms (${m <= 250 ? 'within' : 'OVER'} target)`);
}

await detectionBench();
processBench();
await closureBench();
await hostileBench();
await (await import('./fleet.js')).fleetBench();

async function killPointBench() {
  console.log('\n## install/revert fault injection (SIGKILL at every step boundary, then recovery and revert)');
  const { spawnSync } = await import('node:child_process');
  if (!/mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '')) {
    console.log('skipped: mkosi >= 24 missing');
    return;
  }
  const { killEveryStep, install } = await import('../support/faults.js');
  const apply = await killEveryStep('apply', async () => undefined);
  const rev = await killEveryStep('revert', async (root) => void (await install(root)));
  console.log(`install: ${apply.tried} kill points tried, ${apply.recovered} recovered to a byte-identical tree`);
  console.log(`revert:  ${rev.tried} kill points tried, ${rev.recovered} completed to a byte-identical tree`);
}
await killPointBench();

const { tuiBench } = await import('./tui.js');
await tuiBench();
