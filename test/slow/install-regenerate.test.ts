/**
 * The whole opt-in on a temporary root with the real tools: install the
 * configuration, `--regenerate` runs the real kernel-install, whose plugin
 * runs the real mkosi-initrd (reading the root's /etc/mkosi-initrd); an
 * initrd lands in the boot tree next to a fallback entry for the previous
 * one. Revert brings the root back and kernel-install uses dracut again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { installCommand } from '../../src/commands/install.js';
import { revertCommand } from '../../src/commands/revert.js';
import { readInitrd } from '../../src/image/cpio.js';
import { discoverPlugins } from '../../src/install/kernelinstall.js';
import { Root } from '../../src/install/fsops.js';
import { makeRoot, treeHash } from '../support/roots.js';
import { fixture, tempDir, isRoot, ROOT } from '../helpers.js';

const mkosi = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const kver = existsSync('/usr/lib/modules') ? readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/modules.dep`) && existsSync(`/usr/lib/modules/${k}/vmlinuz`)) : undefined;
const skip = !isRoot ? 'needs root' : !mkosi ? 'mkosi >= 24 missing' : !kver ? 'no kernel with modules and vmlinuz' : false;
const shimEnv: Record<string, string> = existsSync('/proc/modules') ? {} : { PATH: `${path.join(ROOT, 'test/mkosi/shim')}:${process.env.PATH}` };

test('install --regenerate builds the initrd with the real kernel-install and mkosi-initrd, keeps a fallback, and revert undoes it', { skip, timeout: 1_200_000 }, async () => {
  const { dir, cleanup } = await tempDir('iw-regen-');
  try {
    await makeRoot(dir, 'commented-install-conf');
    await mkdir(path.join(dir, `usr/lib/modules/${kver}`), { recursive: true });
    await copyFile(`/usr/lib/modules/${kver}/vmlinuz`, path.join(dir, `usr/lib/modules/${kver}/vmlinuz`));
    // First the distribution's own generator (dracut's plugin here) makes an initrd and its entry.
    const env = { KERNEL_INSTALL_CONF_ROOT: path.join(dir, 'etc/kernel'), BOOT_ROOT: path.join(dir, 'boot'), MACHINE_ID: '0123456789abcdef0123456789abcdef' };
    const first = spawnSync('kernel-install', ['add', kver!, path.join(dir, `usr/lib/modules/${kver}/vmlinuz`)], { env: { ...process.env, ...env, KERNEL_INSTALL_PLUGINS: (await discoverPlugins(new Root(dir))).join(' ') }, encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const entryDir = path.join(dir, `boot/0123456789abcdef0123456789abcdef/${kver}`);
    assert.equal(await readFile(path.join(entryDir, 'initrd'), 'utf8'), 'built by dracut\n');
    const baseline = await treeHash(dir, ['boot', 'usr']);

    const r = await installCommand({ root: dir, snapshot: fixture('luks2-lvm-hibernate'), kernelVersion: kver, yes: true, force: true, regenerate: true, env: shimEnv });
    assert.equal(r.exitCode, 0, r.text);
    const image = await readInitrd(await readFile(path.join(entryDir, 'initrd')));
    assert.ok(image.entries.has('init') && image.entries.has('usr/sbin/lvm'), 'a real mkosi-initrd image with the variant\'s lvm');
    assert.equal(await readFile(path.join(entryDir, 'initrd.previous'), 'utf8'), 'built by dracut\n', 'the previous initrd is kept');
    const entries = await readdir(path.join(dir, 'boot/loader/entries'));
    const fallback = entries.find((e) => e.includes('previous-initrd'));
    assert.ok(fallback, `a fallback entry (${entries.join(', ')})`);
    assert.match(await readFile(path.join(dir, 'boot/loader/entries', fallback!), 'utf8'), /^initrd\s+\S+\/initrd\.previous$/m);

    const rv = await revertCommand({ root: dir });
    assert.equal(rv.exitCode, 0, rv.text);
    assert.equal(existsSync(path.join(entryDir, 'initrd.previous')), false, 'the fallback initrd install created is gone');
    assert.equal((await readdir(path.join(dir, 'boot/loader/entries'))).some((e) => e.includes('previous-initrd')), false);
    assert.equal(await treeHash(dir, ['boot', 'usr']), baseline);
    const again = spawnSync('kernel-install', ['add', kver!, path.join(dir, `usr/lib/modules/${kver}/vmlinuz`)], { env: { ...process.env, ...env, KERNEL_INSTALL_PLUGINS: (await discoverPlugins(new Root(dir))).join(' ') }, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(await readFile(path.join(entryDir, 'initrd'), 'utf8'), 'built by dracut\n', 'kernel-install is back to dracut');
  } finally {
    await cleanup();
  }
});
