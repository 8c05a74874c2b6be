/**
 * A unified kernel image made by a release's own ukify and stub, around an
 * initrd the product built there, boots under OVMF through systemd-boot
 * against an LVM root inside LUKS2 (opened with the passphrase credential),
 * and the product's own UKI for a LUKS2+TPM2 btrfs host boots a btrfs root in
 * LUKS2; a copy with a damaged .initrd or PE header does not, and the result
 * says what stopped it. The UKI's embedded command line names a root that
 * does not exist, so every boot that reaches the marker also proves that the
 * stub used systemd-boot's options (Secure Boot off) and not its .cmdline.
 *
 * The initrd is the one the toolchains test built in the chroot when it is
 * there, else the product builds it now. One UKI per release serves every boot.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bootTest, makeBootDisk, withTempDir, type BootResult, type DiskShape } from '../../src/image/boottest.js';
import { findSection, readPe } from '../../src/image/pe.js';
import { OVMF_PAIRS } from '../../src/image/uefi.js';
import { systemRunner } from '../../src/system/run.js';
import { CLI, isRoot } from '../helpers.js';
import { ensureChroot, inChroot, type Suite } from '../support/toolchain.js';

const exec = promisify(execFile);
const has = (cmd: string, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const ovmf = OVMF_PAIRS.some((p) => existsSync(p.code) && existsSync(p.vars));
const skip = !isRoot
  ? 'needs root'
  : !has('qemu-system-x86_64')
    ? 'qemu-system-x86_64 missing'
    : !ovmf
      ? 'OVMF missing (apt-get install ovmf)'
      : !has('mcopy', ['-V']) || !has('mkfs.fat', ['--help'])
        ? 'mtools or dosfstools missing'
        : false;

/** The command line baked into the UKI: a root no test disk has. */
const EMBEDDED_ROOT = 'root=UUID=0b2c5e4d-0000-4000-8000-00000000dead';
/**
 * A LUKS2 + LVM host: the initrd is built for it (as the toolchains test
 * builds it), and boot-test's disk follows its root stack, LVM inside LUKS2,
 * so one boot opens both (the BIOS boots of the toolchains test take them
 * one at a time).
 */
const SNAPSHOT = 'test/fixtures/snapshots/trixie-luks2-lvm-hibernate';

const secs = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

interface Uki {
  root: string;
  /** Host path of the UKI. */
  file: string;
  /** The release's own systemd-boot. */
  loader: string;
  /** Where the initrd came from and how long the UKI took, for the first test's diagnostics. */
  note: string;
}

/** The release's initrd (reused or built by the product inside the chroot), wrapped by its own ukify and stub. */
async function makeUki(suite: Suite): Promise<Uki> {
  const root = await ensureChroot(suite);
  const modules = path.join(root, 'usr/lib/modules');
  const kver = readdirSync(modules).find((k) => existsSync(path.join(modules, k, 'modules.dep'))) ?? '';
  const kernel = [`/usr/lib/modules/${kver}/vmlinuz`, `/boot/vmlinuz-${kver}`].find((p) => existsSync(path.join(root, p)));
  assert.ok(kver && kernel, `a kernel with modules in ${root}`);
  let note: string;
  let initrd = [`/var/tmp/iw-toolchain-${suite}.cpio.zst`, `/var/tmp/iw-uki-boot-${suite}.cpio.zst`].find((p) => existsSync(path.join(root, p)));
  if (!initrd) {
    initrd = `/var/tmp/iw-uki-boot-${suite}.cpio.zst`;
    const built = performance.now();
    const r = await inChroot(root, ['node', 'dist/bin/initrd-wizard.js', 'build', '--snapshot', SNAPSHOT, '--kernel-version', kver, '-o', initrd, '--json']);
    assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    note = `built the initrd with the product in ${secs(performance.now() - built)}`;
  } else note = `reused the initrd ${initrd}`;
  const out = `/var/tmp/iw-uki-boot-${suite}.efi`;
  const started = performance.now();
  const r = await inChroot(root, ['ukify', 'build', '--linux', kernel!, '--initrd', initrd, '--cmdline', `${EMBEDDED_ROOT} rw quiet`, '--os-release', '@/etc/os-release', '--uname', kver, '--output', out], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const loader = path.join(root, 'usr/lib/systemd/boot/efi/systemd-bootx64.efi');
  assert.ok(existsSync(loader), `${suite}'s systemd-boot-efi ships ${loader}`);
  return { root, file: path.join(root, out), loader, note: `${suite}: ${note}; ukify built the UKI in ${secs(performance.now() - started)}` };
}

const boot = (uki: Uki, shape: Omit<DiskShape, 'notes' | 'fstype'>, file = uki.file): Promise<BootResult> =>
  withTempDir(async (dir) => bootTest({ runner: systemRunner, uki: { file, loader: uki.loader }, disk: await makeBootDisk(systemRunner, dir, { fstype: 'ext4', notes: [], ...shape }), accel: 'tcg', timeoutMs: 480_000 }));

interface CliBoot {
  ok: boolean;
  format: string;
  firmware: string;
  via: string;
  loader: string;
  sections: string[];
  kernelCmdline: string | null;
  failure: string | null;
  durationMs: number;
  shape: DiskShape;
}

/** The product's boot-test as a user runs it, on this host (QEMU and OVMF are the host's). */
async function cliBoot(image: string, loader: string, snapshot = SNAPSHOT): Promise<{ code: number; json: CliBoot; stderr: string }> {
  // KVM is present but broken on these machines (shared/docs/test-machine.md): skip the probe (up to 20 s) on every boot.
  const env = { ...process.env, INITRD_WIZARD_ACCEL: 'tcg' };
  const r = await exec(process.execPath, [CLI, 'boot-test', '--snapshot', snapshot, '--image', image, '--loader', loader, '--json'], { maxBuffer: 64 << 20, timeout: 600_000, env }).then(
    (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
  assert.ok(r.stdout.trim().startsWith('{'), `JSON on stdout (exit ${r.code}): ${r.stdout.slice(0, 500)}\n${r.stderr.slice(-2000)}`);
  return { code: r.code, json: JSON.parse(r.stdout) as CliBoot, stderr: r.stderr };
}


// Each boot is one QEMU under TCG, one core: two at a time fill this 2-core machine.
describe('UKI boots under OVMF (trixie: systemd 257 ukify, stub and systemd-boot)', { skip, concurrency: 2 }, () => {
  let uki: Uki;
  const scratch: string[] = [];
  before(async () => {
    uki = await makeUki('trixie');
  });
  after(async () => {
    for (const f of [uki?.file, ...scratch]) if (f) await rm(f, { force: true });
  });

  test('boot-test --image X.efi: an LVM-in-LUKS2 root with the credential, through systemd-boot, with the entry\'s command line and not the embedded one', { timeout: 900_000 }, async (t) => {
    const pe = readPe(await readFile(uki.file));
    assert.ok(findSection(pe, '.linux') && findSection(pe, '.initrd') && findSection(pe, '.cmdline'), pe.sections.map((s) => s.name).join(' '));
    t.diagnostic(uki.note);
    const { code, json } = await cliBoot(uki.file, uki.loader);
    t.diagnostic(`LVM in LUKS2 (boot-test CLI): ${secs(json.durationMs)}`);
    assert.equal(code, 0, JSON.stringify({ ...json, log: undefined }));
    assert.equal(json.ok, true);
    assert.deepEqual([json.format, json.firmware], ['uki', 'uefi']);
    assert.match(json.via, /systemd-boot/);
    assert.deepEqual([json.shape.luks, json.shape.lvm], [true, true]);
    // Reaching the marker on a LUKS2 root already proves the entry's options (root and credential) reached the kernel:
    // the embedded command line names a root that does not exist. The kernel's own echo says so too, though a
    // loaded TCG guest's early serial output can drop a few characters, so only the embedded root's absence is checked.
    assert.ok(json.kernelCmdline && !json.kernelCmdline.includes(EMBEDDED_ROOT), json.kernelCmdline ?? 'no "Command line:" on the console');
    assert.equal(json.failure, null);
  });

  // The acceptance case: the product's own UKI (build --format uki, as the toolchains test leaves it) for a LUKS2+TPM2
  // btrfs host, booted as built. QEMU has no TPM here: the disk (btrfs in LUKS2) is opened with the credential.
  test('the product\'s UKI for a LUKS2+TPM2 btrfs host boots a btrfs-in-LUKS2 root under OVMF', { timeout: 1_200_000 }, async (t) => {
    const btrfsSnapshot = 'test/fixtures/snapshots/btrfs-luks-tpm2';
    const built = '/var/tmp/iw-toolchain-trixie.efi';
    if (!existsSync(path.join(uki.root, built))) {
      const modules = path.join(uki.root, 'usr/lib/modules');
      const kver = readdirSync(modules).find((k) => existsSync(path.join(modules, k, 'modules.dep'))) ?? '';
      const r = await inChroot(uki.root, ['node', 'dist/bin/initrd-wizard.js', 'build', '--format', 'uki', '--snapshot', btrfsSnapshot, '--kernel-version', kver, '-o', built, '--json']);
      assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    }
    const { code, json } = await cliBoot(path.join(uki.root, built), uki.loader, btrfsSnapshot);
    t.diagnostic(`product UKI, btrfs in LUKS2 (boot-test CLI): ${secs(json.durationMs)}`);
    assert.equal(code, 0, JSON.stringify({ ...json, log: undefined }));
    assert.equal(json.ok, true);
    assert.deepEqual([json.firmware, json.shape.fstype, json.shape.luks, json.shape.lvm], ['uefi', 'btrfs', true, false]);
    assert.ok(json.shape.notes.some((n) => /TPM2.*credential/.test(n)), json.shape.notes.join('; '));
  });

  test('negative control: a UKI whose .initrd has a damaged byte range does not boot, and boot-test says the kernel could not unpack it', { timeout: 900_000 }, async (t) => {
    const buf = await readFile(uki.file);
    const s = findSection(readPe(buf), '.initrd')!;
    const at = s.rawOffset + Math.floor(s.rawSize / 2);
    buf.fill(0xa5, at, at + 65536);
    const bad = path.join(os.tmpdir(), `iw-uki-bad-initrd-${process.pid}.efi`);
    scratch.push(bad);
    await writeFile(bad, buf);
    const { code, json } = await cliBoot(bad, uki.loader);
    t.diagnostic(`damaged .initrd: FAIL in ${secs(json.durationMs)}: ${json.failure}`);
    assert.equal(code, 1);
    assert.equal(json.ok, false);
    assert.match(json.failure ?? '', /could not unpack the embedded initrd/);
  });

  test('negative control: a UKI with a damaged PE header does not boot: the firmware refuses it', { timeout: 900_000 }, async (t) => {
    const buf = await readFile(uki.file);
    buf.write('XX', buf.readUInt32LE(0x3c), 'latin1');
    const bad = path.join(os.tmpdir(), `iw-uki-bad-header-${process.pid}.efi`);
    scratch.push(bad);
    await writeFile(bad, buf);
    const r = await boot(uki, { luks: false, lvm: false }, bad);
    t.diagnostic(`damaged PE header: FAIL in ${secs(r.durationMs)}: ${r.failure}`);
    assert.equal(r.ok, false);
    assert.equal(r.reachedInitrd, false);
    assert.match(r.failure ?? '', /^the firmware refused the image/);
  });
});

describe('UKI boots under OVMF (sid: systemd 262 ukify, stub and systemd-boot)', { skip, concurrency: 1 }, () => {
  let uki: Uki;
  before(async () => {
    uki = await makeUki('sid');
  });
  after(async () => {
    if (uki?.file) await rm(uki.file, { force: true });
  });

  test('boot-test --image X.efi: an LVM-in-LUKS2 root with the credential, with the entry\'s command line', { timeout: 900_000 }, async (t) => {
    t.diagnostic(uki.note);
    const { code, json } = await cliBoot(uki.file, uki.loader);
    t.diagnostic(`sid LVM in LUKS2 (boot-test CLI): ${secs(json.durationMs)}`);
    assert.equal(code, 0, JSON.stringify({ ...json, log: undefined }));
    assert.equal(json.ok, true);
    assert.deepEqual([json.firmware, json.shape.luks, json.shape.lvm], ['uefi', true, true]);
    assert.ok(json.kernelCmdline && !json.kernelCmdline.includes(EMBEDDED_ROOT), json.kernelCmdline ?? 'no "Command line:" on the console');
  });
});
