/**
 * SIGKILL at random moments (seeded PRNGs, so a failure replays) over
 * install and revert, in two lanes with a root each: whatever moment the kill
 * lands on, the next command finishes the job and the root is byte-identical
 * to a clean install or to the start, temp files included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { makeRoot, treeHash } from '../support/roots.js';
import { install, revert } from '../support/faults.js';
import { CLI, fixture, tempDir } from '../helpers.js';

const skip = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '') ? false : 'mkosi >= 24 missing';
const KILLS = 100;

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the CLI and SIGKILLs it after `ms`; true when the kill landed while it ran. */
function runAndKill(args: string[], ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL');
    });
  });
}

/**
 * One lane of the loop on its own root: random installs and reverts, each killed at a random moment,
 * each followed by the same command run to the end; the root must then be the installed or the start
 * tree byte for byte.
 */
async function lane(seed: number, want: number, installed: string): Promise<{ tries: number; kills: number; counts: Record<'install' | 'revert', number> }> {
  const random = mulberry32(seed);
  const { dir, cleanup } = await tempDir('iw-kill-');
  try {
    await makeRoot(dir, 'commented-install-conf');
    const clean = await treeHash(dir);
    assert.notEqual(installed, clean);
    let kills = 0;
    let tries = 0;
    let isInstalled = false;
    const counts = { install: 0, revert: 0 };
    while (kills < want && tries < want * 4) {
      tries++;
      const op: 'install' | 'revert' = isInstalled && random() < 0.6 ? 'revert' : 'install';
      const args = op === 'install' ? ['install', '--root', dir, '--snapshot', fixture('luks2-lvm-hibernate'), '--yes', '--force'] : ['revert', '--root', dir];
      // Process start is ~150 ms; the writes come after the analysis.
      const killed = await runAndKill(args, 100 + Math.floor(random() * 700));
      if (killed) {
        kills++;
        counts[op]++;
      }
      const next = op === 'install' ? await install(dir) : await revert(dir);
      assert.ok(next.code === 0 || (op === 'revert' && /nothing to revert/.test(next.stderr)), `seed ${seed}, try ${tries} (${op}, killed: ${killed}): ${next.stderr}`);
      isInstalled = op === 'install';
      assert.equal(await treeHash(dir), isInstalled ? installed : clean, `seed ${seed}, try ${tries}: after a ${killed ? 'killed' : 'finished'} ${op} and the next ${op}, the root is ${isInstalled ? 'the installed tree' : 'the start tree'} byte for byte`);
    }
    return { tries, kills, counts };
  } finally {
    await cleanup();
  }
}

test(`${KILLS} random SIGKILLs over install and revert: the next command always leaves a byte-identical root`, { skip, timeout: 1_800_000 }, async () => {
  const ref = await tempDir('iw-kill-ref-');
  try {
    await makeRoot(ref.dir, 'commented-install-conf');
    assert.equal((await install(ref.dir)).code, 0);
    const installed = await treeHash(ref.dir);
    // Two lanes with their own roots and seeds, side by side on the two cores.
    const lanes = await Promise.all([lane(10, KILLS / 2, installed), lane(11, KILLS / 2, installed)]);
    const total = (f: (l: (typeof lanes)[number]) => number) => lanes.reduce((n, l) => n + f(l), 0);
    const kills = total((l) => l.kills);
    console.log(`kill loop: ${total((l) => l.tries)} runs, ${kills} killed mid-run (install ${total((l) => l.counts.install)}, revert ${total((l) => l.counts.revert)}), 0 roots left different`);
    assert.ok(kills >= KILLS, `kills that landed: ${kills}`);
  } finally {
    await ref.cleanup();
  }
});
