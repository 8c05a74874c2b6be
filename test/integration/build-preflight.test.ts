/**
 * Before building: every missing piece is named with its fix; known build
 * failures are explained in a sentence instead of a dump. The failure texts
 * come from the real tools (apt, dnf), run here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildPreflight, explainBuildFailure } from '../../src/mkosi/build.js';
import { hostFs } from '../../src/system/files.js';
import { tempDir } from '../helpers.js';

const base = { kernelVersion: '6.1.0-99-amd64', uid: 0, mkosiVersion: '24.3', mkosiMajor: 24, hasInitrd: true, family: 'debian' };

test('a complete root passes every item', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const mod = path.join(dir, 'usr/lib/modules/6.1.0-99-amd64');
    await mkdir(mod, { recursive: true });
    await writeFile(path.join(mod, 'modules.dep'), '');
    await writeFile(path.join(mod, 'vmlinuz'), '');
    await mkdir(path.join(dir, 'proc'));
    await writeFile(path.join(dir, 'proc/modules'), 'dm_mod 184320 0 - Live 0x0\n');
    await mkdir(path.join(dir, 'var/lib/apt/lists'), { recursive: true });
    await mkdir(path.join(dir, 'var/tmp'), { recursive: true });
    await mkdir(path.join(dir, 'usr/lib/firmware'), { recursive: true });
    await writeFile(path.join(dir, 'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages'), '');
    const items = await buildPreflight({ ...base, fs: hostFs(dir) });
    assert.deepEqual(items.filter((i) => !i.ok), []);
  } finally {
    await cleanup();
  }
});

test('each missing piece fails with its own fix', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await mkdir(path.join(dir, 'var/lib/apt/lists'), { recursive: true });
    const old = path.join(dir, 'var/lib/apt/lists/x_Packages');
    await writeFile(old, '');
    const monthAgo = new Date(Date.now() - 30 * 86400_000);
    await utimes(old, monthAgo, monthAgo);
    const items = await buildPreflight({ ...base, uid: 1000, mkosiVersion: '14', mkosiMajor: 14, hasInitrd: false, fs: hostFs(dir) });
    const byId = Object.fromEntries(items.map((i) => [i.id, i]));
    assert.match(byId.root!.fix!, /sudo/);
    assert.match(byId.mkosi!.detail, /mkosi 14 has no mkosi-initrd/);
    assert.match(byId.mkosi!.fix!, /bookworm-backports/);
    assert.match(byId['kernel-modules']!.detail, /modules\.dep is missing/);
    assert.match(byId.vmlinuz!.detail, /every module/);
    assert.equal(byId.vmlinuz!.fix, 'cp /boot/vmlinuz-6.1.0-99-amd64 /usr/lib/modules/6.1.0-99-amd64/vmlinuz');
    assert.match(byId['proc-modules']!.detail, /no loadable modules/);
    assert.match(byId['proc-modules']!.fix!, /--snapshot|--generic/);
    assert.match(byId['firmware-dir']!.fix!, /mkdir -p \/usr\/lib\/firmware/);
    assert.match(byId.metadata!.detail, /30 days old/);
    assert.match(byId.metadata!.fix!, /apt-get update/);
  } finally {
    await cleanup();
  }
});

test('known build failures are explained, with their fix', () => {
  const procModules = "FileNotFoundError: [Errno 2] No such file or directory: '/proc/modules'";
  assert.match(explainBuildFailure(procModules)!.message, /no loadable modules/);
  const apt = spawnSync('apt-get', ['-s', 'install', 'initrd-wizard-no-such-package'], { encoding: 'utf8' });
  const aptText = `${apt.stdout}${apt.stderr}`;
  assert.match(aptText, /Unable to locate package/, 'real apt output');
  assert.match(explainBuildFailure(aptText)!.message, /"initrd-wizard-no-such-package" is not in the configured repositories/);
  assert.match(explainBuildFailure("No match for argument: lvm3\nError: Unable to find a match: lvm3")!.message, /"lvm3"/);
  assert.match(explainBuildFailure("error: target not found: mdadmx")!.message, /"mdadmx"/);
  assert.match(explainBuildFailure('write error: No space left on device')!.hint, /free space/);
  assert.match(explainBuildFailure('Err:1 http://deb.debian.org/debian bookworm/main amd64 lvm2 amd64 2.03.16-2\n  404  Not Found [IP: 1.2.3.4 80]')!.message, /stale/);
  assert.equal(explainBuildFailure('something nobody has seen'), null);
});
