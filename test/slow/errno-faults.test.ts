/**
 * Every change to the file system an install or revert makes, failed in turn
 * with EPERM, EROFS and ENOSPC (INITRD_WIZARD_FAULT_ERRNO): each failing run
 * exits 1 with the errno in words and leaves the root exactly as it was,
 * temp files included, before it returns; the next run is not stuck.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { makeRoot, treeHash } from '../support/roots.js';
import { install, revert } from '../support/faults.js';
import { tempDir } from '../helpers.js';

const skip = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '') ? false : 'mkosi >= 24 missing';

/**
 * One run failed at change `n`: 'failed' after checking it, or 'past-the-end' when the run made fewer
 * changes and succeeded.
 */
async function failAt(code: string, op: 'install' | 'revert', n: number): Promise<'failed' | 'past-the-end'> {
  const { dir, cleanup } = await tempDir('iw-errno-');
  try {
    await makeRoot(dir, 'commented-install-conf');
    if (op === 'revert') assert.equal((await install(dir)).code, 0);
    const start = await treeHash(dir);
    const env = { INITRD_WIZARD_FAULT_ERRNO: `${n}:${code}` };
    const r = op === 'install' ? await install(dir, env) : await revert(dir, env);
    if (r.code === 0) return 'past-the-end';
    assert.equal(r.code, 1, `${op} with ${code} at change ${n}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error/, `${op} with ${code} at change ${n}`);
    assert.match(r.stderr, new RegExp(code), `${op} with ${code} at change ${n} names the errno: ${r.stderr}`);
    assert.equal(await treeHash(dir), start, `${op} with ${code} at change ${n}: the root is byte-identical after the failing command (${r.stderr.split('\n')[0]})`);
    // And the next run is not stuck.
    const again = op === 'install' ? await install(dir) : await revert(dir);
    assert.equal(again.code, 0, `after ${code} at change ${n}, ${op} works again: ${again.stderr}`);
    return 'failed';
  } finally {
    await cleanup();
  }
}

/** Fails change 1, 2, 3 … in turn until a run gets through; two at a time, each in its own root (the machine has two cores). */
async function failEveryWrite(code: string, op: 'install' | 'revert'): Promise<number> {
  const WIDTH = 2;
  let failed = 0;
  for (let n = 1; n < 200; n += WIDTH) {
    const outcomes = await Promise.all(Array.from({ length: WIDTH }, (_, k) => failAt(code, op, n + k)));
    for (const o of outcomes) {
      if (o === 'past-the-end') return failed;
      failed++;
    }
  }
  throw new Error('no end to the injected faults');
}

for (const code of ['EPERM', 'EROFS', 'ENOSPC']) {
  test(`install failing with ${code} at any change rolls back before it exits`, { skip, timeout: 600_000 }, async () => {
    const failed = await failEveryWrite(code, 'install');
    assert.ok(failed >= 15, `changes failed: ${failed}`);
  });
  test(`revert failing with ${code} at any change rolls back before it exits`, { skip, timeout: 600_000 }, async () => {
    const failed = await failEveryWrite(code, 'revert');
    assert.ok(failed >= 10, `changes failed: ${failed}`);
  });
}

