import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { captureHost } from '../../src/host/capture.js';
import { loadSnapshot, writeSnapshot } from '../../src/host/snapshot.js';
import { hostFs } from '../../src/system/files.js';
import { systemRunner, type Runner } from '../../src/system/run.js';
import { tempDir } from '../helpers.js';

/** A real runner whose PATH puts some broken tools first. */
function runnerWithPath(bin: string): Runner {
  return { run: (argv, o) => systemRunner.run(argv, { ...o, env: { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` } }) };
}

async function script(dir: string, name: string, body: string) {
  await writeFile(path.join(dir, name), `#!/bin/sh\n${body}\n`);
  await chmod(path.join(dir, name), 0o755);
}

test('a failing, hanging or missing probe is recorded and the capture goes on', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const root = path.join(dir, 'root');
    const bin = path.join(dir, 'bin');
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await mkdir(path.join(root, 'proc'), { recursive: true });
    await mkdir(bin);
    await writeFile(path.join(root, 'etc', 'os-release'), 'ID=debian\nVERSION_ID="12"\n');
    await writeFile(path.join(root, 'etc', 'fstab'), 'UUID=abc / ext4 defaults 0 1\n');
    await writeFile(path.join(root, 'proc', 'cmdline'), 'root=UUID=abc ro quiet\n');
    await script(bin, 'lvm', 'echo "  WARNING: Running as a non-root user. Functionality may be unavailable." >&2; exit 5');
    await script(bin, 'mdadm', 'sleep 20');
    await script(bin, 'dmsetup', 'echo "/dev/mapper/control: open failed: Permission denied" >&2; exit 1');
    await script(bin, 'kernel-install', 'exit 127');
    await script(bin, 'initrd-wizard-unused', 'true');

    const started = Date.now();
    const { snapshot, missed } = await captureHost({ runner: runnerWithPath(bin), fs: hostFs(root), probeTimeoutMs: 500, uid: 0 });
    assert.ok(Date.now() - started < 8000, 'probes run in parallel, each bounded by its timeout');

    const byProbe = new Map(snapshot.errors.map((e) => [e.probe, e]));
    assert.equal(byProbe.get('lvm-fullreport.json')?.exitCode, 5);
    assert.match(byProbe.get('lvm-fullreport.json')!.stderr, /non-root user/);
    assert.match(byProbe.get('mdadm-detail-scan')!.stderr, /did not finish within 500 ms/);
    assert.equal(byProbe.get('dmsetup-table')?.exitCode, 1);
    assert.ok(snapshot.files.has('lsblk.json'), 'the real lsblk still ran');
    assert.equal(snapshot.files.get('cmdline'), 'root=UUID=abc ro quiet\n');
    assert.equal(snapshot.files.has('crypttab'), false, 'an absent file is simply absent');
    assert.equal(byProbe.has('crypttab'), false, 'and is not an error');
    assert.ok(missed.some((m) => m.startsWith('mdadm-detail-scan')));

    const out = path.join(dir, 'snap');
    await writeSnapshot(snapshot, out);
    const errorsJson = JSON.parse(await readFile(path.join(out, 'errors.json'), 'utf8'));
    assert.deepEqual(errorsJson.map((e: { probe: string }) => e.probe).sort(), snapshot.errors.map((e) => e.probe).sort());
    const meta = JSON.parse(await readFile(path.join(out, 'snapshot.json'), 'utf8'));
    assert.equal(meta.format, 1);
    assert.match(meta.capturedBy, /^initrd-wizard /);

    const reloaded = await loadSnapshot(out);
    assert.equal(reloaded.files.get('fstab'), snapshot.files.get('fstab'));
    assert.equal(reloaded.errors.length, snapshot.errors.length);
  } finally {
    await cleanup();
  }
});

test('a normal user is told what could not be read', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await script(bin, 'lvm', 'echo "  WARNING: Running as a non-root user." >&2; exit 5');
    const { missed } = await captureHost({ runner: runnerWithPath(bin), fs: hostFs(dir), uid: 1000, probeTimeoutMs: 2000 });
    assert.ok(missed.some((m) => /lvm-fullreport.json: .*needs root/.test(m)), missed.join('\n'));
    assert.ok(missed.some((m) => /sudo initrd-wizard snapshot/.test(m)));
  } finally {
    await cleanup();
  }
});

test('writing a snapshot never leaves a half-written directory and refuses a non-empty target', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const target = path.join(dir, 'existing');
    await mkdir(target);
    await writeFile(path.join(target, 'keep'), 'x');
    const snapshot = { dir: null, meta: { format: 1, captured: '', kernel: 'k', arch: 'x86_64', capturedBy: 't' }, files: new Map([['fstab', '']]), errors: [], warnings: [] };
    await assert.rejects(writeSnapshot(snapshot, target), /not empty/);
    assert.deepEqual(await readdir(target), ['keep']);
    assert.deepEqual((await readdir(dir)).sort(), ['existing']);
  } finally {
    await cleanup();
  }
});
