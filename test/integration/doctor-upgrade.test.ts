/**
 * The mkosi 26 trap, caught before the upgrade: an LVM host that boots
 * through mkosi-initrd and gets lvm2 only from mkosi 24.3's base list is
 * told, and a drop-in naming lvm2 makes the warning go away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { doctorCommand } from '../../src/commands/doctor.js';
import { hostFs } from '../../src/system/files.js';
import { parseMkosiVersion } from '../../src/mkosi/version.js';
import { fixture, tempDir, ROOT } from '../helpers.js';

const mkosi = parseMkosiVersion(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const skip = !mkosi ? 'mkosi is not installed' : mkosi.major >= 26 ? 'this machine already runs mkosi >= 26' : false;

type Item = { id: string; ok: boolean; detail: string; fix?: string };

test("doctor warns an LVM host booting through mkosi-initrd whose lvm2 comes only from the pre-26 base list, until a drop-in names it", { skip }, async () => {
  const t = await tempDir('iw-doctor-26-');
  try {
    const res = path.join(t.dir, 'usr/lib/python3/dist-packages/mkosi/resources/mkosi-initrd');
    await mkdir(path.dirname(res), { recursive: true });
    await cp(path.join(ROOT, 'test/fixtures/mkosi-resources', mkosi!.version === '25.3' ? '25.3' : '24.3'), res, { recursive: true });
    await mkdir(path.join(t.dir, 'etc/kernel'), { recursive: true });
    await writeFile(path.join(t.dir, 'etc/kernel/install.conf'), 'initrd_generator=mkosi-initrd\n');
    const run = async () => ((await doctorCommand({ snapshot: fixture('luks2-lvm-hibernate'), fs: hostFs(t.dir) })).json as { items: Item[] }).items.find((i) => i.id === 'mkosi-26-lvm2');
    const before = await run();
    assert.equal(before?.ok, false, JSON.stringify(before));
    assert.match(before!.detail, /mkosi 26 moved it into the "lvm" profile/);
    assert.match(before!.fix ?? '', /Packages=lvm2/);
    await mkdir(path.join(t.dir, 'etc/mkosi-initrd/mkosi.conf.d'), { recursive: true });
    await writeFile(path.join(t.dir, 'etc/mkosi-initrd/mkosi.conf.d/50-mine.conf'), '[Content]\nPackages=lvm2\n');
    const after = await run();
    assert.equal(after?.ok, true, JSON.stringify(after));
    assert.match(after!.detail, /50-mine\.conf/);
  } finally {
    await t.cleanup();
  }
});

test('doctor --snapshot does not ask for this machine\'s /proc/modules: as build, it keeps the snapshot machine\'s modules', async () => {
  const t = await tempDir('iw-doctor-modules-');
  try {
    await mkdir(path.join(t.dir, 'etc/kernel'), { recursive: true });
    const items = async (snapshot?: string) => ((await doctorCommand({ snapshot, fs: hostFs(t.dir) })).json as { items: Item[] }).items;
    assert.equal((await items(fixture('raid1'))).find((i) => i.id === 'proc-modules'), undefined);
    // Live, on a root without /proc/modules, the same check is there and fails, with its fix.
    const live = (await items()).find((i) => i.id === 'proc-modules');
    assert.equal(live?.ok, false);
    assert.match(live!.fix ?? '', /--snapshot/);
  } finally {
    await t.cleanup();
  }
});
