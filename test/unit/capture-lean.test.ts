import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureHost } from '../../src/host/capture.js';
import { hostFs } from '../../src/system/files.js';
import { systemRunner, type Runner } from '../../src/system/run.js';

/** Records which programs a capture started; runs them for real. */
function recording(): { runner: Runner; started: string[] } {
  const started: string[] = [];
  return { started, runner: { run: (argv, o) => (started.push(argv[0]!), systemRunner.run(argv, o)) } };
}

test('a lean capture on a host without dm or md starts only lsblk and findmnt', async () => {
  const r = recording();
  const { snapshot } = await captureHost({ runner: r.runner, fs: hostFs('/'), lean: true, uid: 0 });
  const hasDm = /"kname":\s*"dm-\d+"/.test(snapshot.files.get('lsblk.json') ?? '');
  if (hasDm) return; // this machine has device-mapper devices: the lean rule keeps dmsetup, nothing to pin down here
  assert.deepEqual([...new Set(r.started)].sort(), ['findmnt', 'lsblk']);
  const full = recording();
  await captureHost({ runner: full.runner, fs: hostFs('/'), uid: 0 });
  assert.ok(full.started.includes('kernel-install') && full.started.includes('dmsetup'), 'snapshot captures everything');
});
