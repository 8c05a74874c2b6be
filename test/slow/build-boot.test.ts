/**
 * The real chain: mkosi-initrd builds a Debian initrd for the installed Debian
 * kernel, the image checks pass, and it boots ext4, LUKS2 and LVM roots in
 * QEMU. Negative controls: LUKS without the passphrase credential must fail to
 * boot, and the checks must fail for a host the image was not built for.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { buildCommand, verifyImage } from '../../src/commands/build.js';
import { bootTest, makeBootDisk, withTempDir, type DiskShape } from '../../src/image/boottest.js';
import { systemRunner } from '../../src/system/run.js';
import { hostFs } from '../../src/system/files.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { analyze } from '../../src/host/analyze.js';
import { parseMkosiVersion } from '../../src/mkosi/version.js';
import { fixture, tempDir, isRoot, ROOT } from '../helpers.js';

const mkosi = parseMkosiVersion(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const kver = existsSync('/usr/lib/modules') ? readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/modules.dep`) && existsSync(`/usr/lib/modules/${k}/vmlinuz`)) : undefined;
const qemu = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !isRoot ? 'needs root' : !mkosi || mkosi.major < 24 ? 'mkosi >= 24 missing (bash test/mkosi/setup-host.sh)' : !kver ? 'no installed kernel with modules and vmlinuz (bash test/mkosi/setup-host.sh)' : !qemu ? 'qemu-system-x86_64 missing' : false;

// Machines without loadable modules (these VMs) need the mkosi shim; a modular host runs the real thing unchanged.
const env = existsSync('/proc/modules') ? undefined : { PATH: `${path.join(ROOT, 'test/mkosi/shim')}:${process.env.PATH}` };
const ignorePreflight = existsSync('/proc/modules') ? [] : ['proc-modules'];
let work = '';
let image = '';
let cleanup: () => Promise<void> = async () => {};

before(async () => {
  if (skip) return;
  const t = await tempDir('iw-build-');
  work = t.dir;
  cleanup = t.cleanup;
});
after(() => cleanup());

test('mkosi-initrd builds the LUKS + LVM + hibernation variant and the image checks pass', { skip, timeout: 1_200_000 }, async () => {
  image = path.join(work, 'initrd.cpio.zst');
  const stages: string[] = [];
  const r = await buildCommand({ snapshot: fixture('luks2-lvm-hibernate'), kernelVersion: kver, output: image, env, ignorePreflight, onStage: (s) => stages.push(s) });
  const json = r.json as { ok: boolean; checks: Array<{ id: string; ok: boolean; detail: string }>; image: { compressedSize: number; unpackedSize: number; files: number; modules: number } };
  assert.equal(r.exitCode, 0, r.text);
  assert.ok(json.ok);
  for (const id of ['init', 'initrd-release', 'fs-ext4', 'disk-driver', 'luks-cryptsetup', 'luks-dm-crypt', 'lvm-tool', 'lvm-udev-rules', 'lvm-dm-modules', 'resume-generator']) {
    assert.ok(json.checks.find((c) => c.id === id)?.ok, `check ${id}`);
  }
  assert.ok(json.image.modules > 50 && json.image.modules < 1000, `host-only module set (${json.image.modules})`);
  assert.ok(stages.some((s) => /cpio archive/.test(s)), 'progress came from mkosi\'s stage lines');
});

test('negative control: the same image fails the checks for a RAID host it was not built for', { skip }, async () => {
  assert.ok(image, 'built by the previous test');
  const raid = analyze(await loadSnapshot(fixture('raid1')));
  const v = await verifyImage(image, raid, hostFs('/'), kver!);
  assert.equal(v.ok, false);
  assert.equal(v.checks.find((c) => c.id === 'raid-mdadm')?.ok, false);
});

async function boot(shape: DiskShape, withoutCredential = false, timeoutMs = 300_000) {
  return withTempDir(async (dir) => {
    const disk = await makeBootDisk(systemRunner, dir, shape);
    return bootTest({ runner: systemRunner, kernel: `/usr/lib/modules/${kver}/vmlinuz`, initrd: image, disk, accel: 'tcg', withoutCredential, timeoutMs });
  });
}

for (const shape of [
  { name: 'ext4', luks: false, lvm: false },
  { name: 'LUKS2', luks: true, lvm: false },
  { name: 'LVM', luks: false, lvm: true },
]) {
  test(`the image boots an ${shape.name} root to its init`, { skip, timeout: 600_000 }, async () => {
    const r = await boot({ fstype: 'ext4', luks: shape.luks, lvm: shape.lvm, notes: [] });
    assert.ok(r.ok, r.log);
    assert.ok(r.switchedRoot);
  });
}

test('negative control: a LUKS root without the passphrase credential does not boot', { skip, timeout: 600_000 }, async () => {
  const r = await boot({ fstype: 'ext4', luks: true, lvm: false, notes: [] }, true, 150_000);
  assert.equal(r.ok, false);
  assert.equal(r.marker, false);
});

test('cancelling a build kills the whole process tree and removes temporary files', { skip, timeout: 600_000 }, async () => {
  const { readdir } = await import('node:fs/promises');
  const before = new Set((await readdir('/var/tmp')).filter((f) => /^(initrd-wizard-build-|mkosi-workspace-)/.test(f)));
  const ac = new AbortController();
  let stages = 0;
  const run = buildCommand({
    snapshot: fixture('btrfs-luks'),
    kernelVersion: kver,
    output: path.join(work, 'cancelled.cpio.zst'),
    env,
    ignorePreflight,
    signal: ac.signal,
    onStage: () => {
      if (++stages === 2) ac.abort();
    },
  });
  await assert.rejects(run, /cancelled/);
  // Give the killed tree a moment to finish dying, then look for leftovers.
  await new Promise((r) => setTimeout(r, 3000));
  const after = (await readdir('/var/tmp')).filter((f) => /^(initrd-wizard-build-|mkosi-workspace-)/.test(f) && !before.has(f));
  assert.deepEqual(after, [], 'no temporary directories left behind');
  const ps = spawnSync('pgrep', ['-f', 'mkosi-initrd --kernel-version'], { encoding: 'utf8' });
  assert.equal(ps.stdout.trim(), '', 'no mkosi-initrd process left running');
  assert.ok(!(await import('node:fs')).existsSync(path.join(work, 'cancelled.cpio.zst')), 'no half-written output');
});

test('the --slim image still passes its checks and boots a LUKS2 root', { skip, timeout: 1_200_000 }, async () => {
  const slim = path.join(work, 'slim.cpio.zst');
  const r = await buildCommand({ snapshot: fixture('luks2-lvm-hibernate'), kernelVersion: kver, output: slim, slim: true, env, ignorePreflight });
  assert.equal(r.exitCode, 0, r.text);
  const json = r.json as { image: { compressedSize: number } };
  if (image) assert.ok(json.image.compressedSize < (await import('node:fs')).statSync(image).size, 'slim is smaller than the default image');
  const booted = await withTempDir(async (dir) => {
    const disk = await makeBootDisk(systemRunner, dir, { fstype: 'ext4', luks: true, lvm: false, notes: [] });
    return bootTest({ runner: systemRunner, kernel: `/usr/lib/modules/${kver}/vmlinuz`, initrd: slim, disk, accel: 'tcg', timeoutMs: 300_000 });
  });
  assert.ok(booted.ok, booted.log);
});
