/**
 * Builds on this machine beyond the per-toolchain chain (toolchains.test.ts):
 * --slim, a cancelled build, and the checks failing for a host the image was
 * not built for.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { buildCommand } from '../../src/commands/build.js';
import { verifyImage } from '../../src/service/build.js';
import { bootTest, makeBootDisk, withTempDir } from '../../src/image/boottest.js';
import { systemRunner } from '../../src/system/run.js';
import { hostFs } from '../../src/system/files.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { analyze } from '../../src/host/analyze.js';
import { parseMkosiVersion } from '../../src/mkosi/version.js';
import { fixture, tempDir, isRoot } from '../helpers.js';

const mkosi = parseMkosiVersion(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const kver = existsSync('/usr/lib/modules') ? readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/modules.dep`) && existsSync(`/usr/lib/modules/${k}/vmlinuz`)) : undefined;
const qemu = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !isRoot ? 'needs root' : !mkosi || mkosi.major < 24 ? 'mkosi >= 24 missing (bash test/mkosi/setup-host.sh)' : !kver ? 'no installed kernel with modules and vmlinuz (bash test/mkosi/setup-host.sh)' : !qemu ? 'qemu-system-x86_64 missing' : false;

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

// The default image's build, preview = build and its ext4/LUKS2/LVM boots run per toolchain in toolchains.test.ts.

test('cancelling a build kills the whole process tree and removes temporary files', { skip, timeout: 600_000 }, async () => {
  const { readdir } = await import('node:fs/promises');
  const before = new Set((await readdir('/var/tmp')).filter((f) => /^(initrd-wizard-build-|mkosi-workspace-)/.test(f)));
  const ac = new AbortController();
  let stages = 0;
  const run = buildCommand({
    snapshot: fixture('btrfs-luks'),
    kernelVersion: kver,
    output: path.join(work, 'cancelled.cpio.zst'),
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

test('the --slim image still passes its checks, is smaller than the default one, and boots a LUKS2 root', { skip, timeout: 1_200_000 }, async () => {
  const slim = path.join(work, 'slim.cpio.zst');
  const r = await buildCommand({ snapshot: fixture('luks2-lvm-hibernate'), kernelVersion: kver, output: slim, slim: true });
  assert.equal(r.exitCode, 0, r.text);
  const json = r.json as { image: { compressedSize: number; unpackedSize: number }; packages: { equal: boolean } | null };
  assert.ok(json.packages?.equal, 'slim removes files, not packages: the preview still equals the build');
  const booted = await withTempDir(async (dir) => {
    const disk = await makeBootDisk(systemRunner, dir, { fstype: 'ext4', luks: true, lvm: false, notes: [] });
    return bootTest({ runner: systemRunner, kernel: `/usr/lib/modules/${kver}/vmlinuz`, initrd: slim, disk, accel: 'tcg', timeoutMs: 300_000 });
  });
  assert.ok(booted.ok, booted.log);
  image = slim;
});

test('negative control: the image fails the checks for a RAID host it was not built for', { skip }, async () => {
  assert.ok(image, 'built by the previous test');
  const raid = analyze(await loadSnapshot(fixture('raid1')));
  const v = await verifyImage(image, raid, hostFs('/'), kver!);
  assert.equal(v.ok, false);
  assert.equal(v.checks.find((c) => c.id === 'raid-mdadm')?.ok, false);
});
