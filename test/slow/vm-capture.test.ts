/**
 * The QEMU capture harness end to end (test/vm/README.md): boot a Debian guest under TCG, build the
 * plain-swap-resume storage stack with the real tools, switch root into it, run the project's
 * snapshot command there and bring the snapshot back. Guards the harness against rot; the committed
 * fixtures under test/fixtures/snapshots/ are made by the same command.
 *
 * Needs root and the packages in test/vm/host-packages.txt; builds the guest on first use (cached in
 * test/vm/work/). Skipped only when qemu-system-x86_64 is missing. The second test does the same with
 * the Debian 13 guest (IW_GUEST_SUITE=trixie, luks2-ext4): about 3 minutes, plus a minute to build
 * that guest the first time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CAPTURE = path.join(ROOT, 'test', 'vm', 'capture.sh');

const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { stdio: 'ignore' }).status === 0;

interface LsblkDevice {
  kname?: string;
  name?: string;
  path?: string;
  type?: string;
  subsystems?: string;
  'maj:min'?: string;
  children?: LsblkDevice[];
}

interface FindmntFs {
  target?: string;
  source?: string;
  'maj:min'?: string;
  children?: FindmntFs[];
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Every device with the chain of devices above it (top-level disk first). */
function walk(devs: LsblkDevice[], up: LsblkDevice[] = []): Array<{ dev: LsblkDevice; ancestors: LsblkDevice[] }> {
  return devs.flatMap((d) => [{ dev: d, ancestors: up }, ...walk(d.children ?? [], [...up, d])]);
}

test(
  'capture.sh plain-swap-resume boots a guest and brings back a snapshot of its real root',
  { skip: haveQemu ? false : 'qemu-system-x86_64 is not installed (apt-get install $(cat test/vm/host-packages.txt))', timeout: 40 * 60 * 1000 },
  async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'iw-vm-capture-'));
    try {
      const r = await run('bash', [CAPTURE, 'plain-swap-resume', out]);
      assert.equal(r.code, 0, `capture.sh failed:\n${r.output.slice(-4000)}`);

      const meta = JSON.parse(await readFile(path.join(out, 'snapshot.json'), 'utf8'));
      assert.equal(meta.format, 1);

      assert.ok(existsSync(path.join(out, 'lsblk.json')), 'lsblk.json missing');
      const lsblk = JSON.parse(await readFile(path.join(out, 'lsblk.json'), 'utf8')) as { blockdevices: LsblkDevice[] };
      assert.ok(Array.isArray(lsblk.blockdevices) && lsblk.blockdevices.length > 0, 'lsblk.json has no devices');
      const isVirtio = (d: LsblkDevice) =>
        d.type === 'disk' && ((d.subsystems ?? '').split(':').includes('virtio') || /^vd[a-z]+$/.test(d.kname ?? ''));
      const disk = lsblk.blockdevices.find(isVirtio);
      assert.ok(disk, `no virtio disk in lsblk.json: ${lsblk.blockdevices.map((d) => d.kname).join(', ')}`);

      const findmnt = JSON.parse(await readFile(path.join(out, 'findmnt.json'), 'utf8')) as { filesystems: FindmntFs[] };
      const root = findmnt.filesystems.find((f) => f.target === '/');
      assert.ok(root, 'findmnt.json has no /');
      const all = walk(lsblk.blockdevices);
      const mounted = all.find(({ dev }) => (root['maj:min'] && dev['maj:min'] === root['maj:min']) || dev.path === root.source);
      assert.ok(mounted, `/ (${root.source}) is not a device in lsblk.json`);
      const top = mounted.ancestors[0] ?? mounted.dev;
      assert.ok(isVirtio(top), `/ is on ${mounted.dev.kname} under ${top.kname}, not on the virtio disk`);
      assert.match(root.source ?? '', /^\/dev\/vd[a-z]+\d+$/, `/ comes from ${root.source}`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);

test(
  'capture.sh with the trixie guest (IW_GUEST_SUITE=trixie) captures Debian 13 tools on kernel 6.12, and detection reads them',
  { skip: haveQemu ? false : 'qemu-system-x86_64 is not installed (apt-get install $(cat test/vm/host-packages.txt))', timeout: 40 * 60 * 1000 },
  async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'iw-vm-capture-trixie-'));
    try {
      const r = await run('bash', [CAPTURE, 'luks2-ext4', out], { IW_GUEST_SUITE: 'trixie' });
      assert.equal(r.code, 0, `capture.sh failed:\n${r.output.slice(-4000)}`);
      const meta = JSON.parse(await readFile(path.join(out, 'snapshot.json'), 'utf8'));
      assert.match(meta.kernel, /^6\.12\./, `the trixie kernel: ${meta.kernel}`);
      assert.match(await readFile(path.join(out, 'os-release'), 'utf8'), /^VERSION_CODENAME=trixie$/m);
      const scenario = JSON.parse(await readFile(path.join(out, 'scenario.json'), 'utf8'));
      assert.equal(scenario.guest.suite, 'trixie');
      // util-linux 2.41: an unmounted device has "mountpoints": [] (2.38 printed [null]).
      assert.match(await readFile(path.join(out, 'lsblk.json'), 'utf8'), /"mountpoints": \[\]/);
      const detect = await run(process.execPath, [path.join(ROOT, 'dist', 'bin', 'initrd-wizard.js'), 'detect', '--json', '--snapshot', out]);
      assert.equal(detect.code, 0, detect.output.slice(-2000));
      const report = JSON.parse(detect.output);
      assert.deepEqual(report.features, ['luks']);
      assert.deepEqual(report.unsupported, []);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);
