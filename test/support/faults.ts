/** Kill-point fault injection for install/revert, shared by the tests and the bench. */
import assert from 'node:assert/strict';
import { makeRoot, treeHash } from './roots.js';
import { fixture, runCli, tempDir } from '../helpers.js';

const SNAP = fixture('luks2-lvm-hibernate');
export const install = (root: string, env: Record<string, string> = {}) => runCli(['install', '--root', root, '--snapshot', SNAP, '--yes', '--force'], env);
export const revert = (root: string, env: Record<string, string> = {}) => runCli(['revert', '--root', root], env);

/** Kill points of one operation: the run with fault N survives once N is past the last boundary. */
export async function killEveryStep(op: 'apply' | 'revert', prepare: (root: string) => Promise<void>): Promise<{ tried: number; recovered: number }> {
  let tried = 0;
  let recovered = 0;
  for (let k = 1; k < 50; k++) {
    const { dir, cleanup } = await tempDir('iw-fault-');
    try {
      await makeRoot(dir, 'commented-install-conf');
      const original = await treeHash(dir);
      await prepare(dir);
      const env = { INITRD_WIZARD_FAULT: `${op}:${k}` };
      const r = op === 'apply' ? await install(dir, env) : await revert(dir, env);
      if (r.signal !== 'SIGKILL') {
        assert.equal(r.code, 0, `the run past the last kill point succeeds: ${r.stderr}`);
        return { tried, recovered };
      }
      tried++;
      // The next start recovers; a revert then restores the start tree.
      // (Killed after its last write, a revert is already complete: "nothing to revert" is the right answer.)
      const next = await revert(dir);
      assert.ok(next.code === 0 || /nothing to revert/.test(next.stderr), `recovery after a kill at ${op} step ${k}: ${next.stderr}`);
      const clean = await revert(dir);
      assert.ok(clean.code === 0 || /nothing to revert/.test(clean.stderr), clean.stderr);
      assert.equal(await treeHash(dir), original, `byte-identical after a kill at ${op} step ${k}`);
      recovered++;
    } finally {
      await cleanup();
    }
  }
  throw new Error('no end to the kill points');
}

