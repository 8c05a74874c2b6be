/**
 * Fault injection: the install is SIGKILLed at every step boundary in turn
 * (INITRD_WIZARD_FAULT=apply:N makes the process kill itself there); the next
 * run recovers, and after recovery plus revert the root is byte-identical to
 * the start. The same for a revert killed midway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { makeRoot } from '../support/roots.js';
import { killEveryStep, install } from '../support/faults.js';
import { tempDir } from '../helpers.js';

const skip = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '') ? false : 'mkosi >= 24 missing';

test('an install killed at any step is recovered, and revert restores the start tree exactly', { skip, timeout: 600_000 }, async () => {
  const { tried, recovered } = await killEveryStep('apply', async () => undefined);
  assert.ok(tried >= 6, `kill points tried: ${tried}`);
  assert.equal(recovered, tried);
});

test('a revert killed at any step is completed by the next run', { skip, timeout: 600_000 }, async () => {
  const { tried, recovered } = await killEveryStep('revert', async (root) => {
    const r = await install(root);
    assert.equal(r.code, 0, r.stderr);
  });
  assert.ok(tried >= 5, `kill points tried: ${tried}`);
  assert.equal(recovered, tried);
});

test('an interrupted install is rolled back by the next install, which then applies', { skip }, async () => {
  const { dir, cleanup } = await tempDir('iw-fault-');
  try {
    await makeRoot(dir, 'no-install-conf');
    const killed = await install(dir, { INITRD_WIZARD_FAULT: 'apply:3' });
    assert.equal(killed.signal, 'SIGKILL');
    const r = await install(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /interrupted install was rolled back/);
    assert.match(r.stdout, /Installed:/);
  } finally {
    await cleanup();
  }
});
