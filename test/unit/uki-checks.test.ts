/**
 * The UKI checks on ukify's own output (test/fixtures/uki/tiny.efi, made by
 * trixie's real ukify) and on the command lines of captured hosts: root=,
 * rootflags=, rd.luks.* and resume= resolved through the snapshot's lsblk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyze } from '../../src/host/analyze.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { parseLsblk, type BlockGraph } from '../../src/host/parse/lsblk.js';
import { cmdlineChecks, crypttabThroughCmdline, readUki, sectionCheck } from '../../src/image/uki.js';
import { findSection, readPe, sectionData, PeFormatError } from '../../src/image/pe.js';
import { readInitrd } from '../../src/image/cpio.js';
import { formatVerified } from '../../src/commands/build.js';
import { verifyImage } from '../../src/service/build.js';
import { ukifyArgv, ukiPreflight, ukiCmdline, hostMicrocode } from '../../src/uki/assemble.js';
import { parseSystemdVersion } from '../../src/uki/detect.js';
import { identifyCpu, microcodeCandidates, microcodeCpio } from '../../src/uki/microcode.js';
import { filterProcCmdline } from '../../src/uki/cmdline.js';
import { hostFs } from '../../src/system/files.js';
import { tempDir } from '../helpers.js';
import { InputError } from '../../src/errors.js';

const tiny = readFileSync(new URL('../fixtures/uki/tiny.efi', import.meta.url));
const fixture = (name: string) => new URL(`../fixtures/snapshots/${name}`, import.meta.url).pathname;

async function host(name: string) {
  const snap = await loadSnapshot(fixture(name));
  const lsblk = parseLsblk(snap.files.get('lsblk.json')!);
  assert.ok(lsblk.ok);
  return { report: analyze(snap), graph: lsblk.value as BlockGraph, files: snap.files };
}

const byId = (checks: Array<{ id: string; ok: boolean; detail: string }>, id: string) => {
  const c = checks.find((x) => x.id === id);
  assert.ok(c, `check ${id} in ${checks.map((x) => x.id).join(' ')}`);
  return c;
};

test("reads ukify's sections with their real sizes; all four required sections present", () => {
  const { summary, initrd } = readUki(tiny, 'tiny.efi');
  assert.equal(summary.arch, 'x86_64');
  assert.deepEqual(summary.missing, []);
  const names = summary.sections.map((s) => s.name);
  for (const n of ['.linux', '.initrd', '.cmdline', '.osrel', '.uname']) assert.ok(names.includes(n), names.join(' '));
  assert.equal(summary.sections.find((s) => s.name === '.linux')!.size, 4096);
  assert.equal(summary.uname, '6.12.0-fixture');
  assert.match(summary.cmdline!, /^root=UUID=0b2c5e4d-0000-4000-8000-000000000001 rw rd\.luks\.uuid=/);
  assert.ok(summary.osRelease, 'PRETTY_NAME of the .osrel section');
  assert.equal(initrd!.subarray(0, 6).toString(), '070701');
  const c = sectionCheck(summary);
  assert.ok(c.ok, c.detail);
  assert.match(c.detail, /also .*\.uname/);
});

test('a UKI without .initrd or .cmdline fails the section check naming what is missing', () => {
  const pe = readPe(tiny);
  const broken = Buffer.from(tiny);
  // Rename the section headers in place: the file stays a valid PE image with two sections fewer that count.
  const table = broken.readUInt32LE(0x3c) + 24 + broken.readUInt16LE(broken.readUInt32LE(0x3c) + 20);
  pe.sections.forEach((s, i) => {
    if (s.name === '.initrd' || s.name === '.cmdline') broken.write('.xxxxxx\0', table + i * 40, 'latin1');
  });
  const { summary } = readUki(broken, 'broken.efi');
  assert.deepEqual(summary.missing.sort(), ['.cmdline', '.initrd']);
  const c = sectionCheck(summary);
  assert.equal(c.ok, false);
  assert.match(c.detail, /lacks \.initrd, \.cmdline|lacks \.cmdline, \.initrd/);
});

test('verifyImage tells a UKI from a cpio by its bytes and runs the initrd checks on the .initrd section', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { report, graph } = await host('btrfs-luks-tpm2');
    const file = path.join(dir, 'x.efi');
    await writeFile(file, tiny);
    const v = await verifyImage(file, report, hostFs(dir), '6.12.0-fixture', { graph });
    assert.equal(v.format, 'uki');
    assert.ok(byId(v.checks, 'uki-sections').ok);
    // The fixture's initrd holds only /etc/os-release: the initrd checks run on it and fail, as they must.
    assert.equal(byId(v.checks, 'init').ok, false);
    assert.equal(byId(v.checks, 'luks-cryptsetup').ok, false);
    // Its root= is another machine's.
    assert.equal(byId(v.checks, 'cmdline-root').ok, false);
    assert.equal(v.ok, false);
    // Without the host's block devices a UUID= cannot be resolved: reported as not compared, not as a mismatch.
    const blind = await verifyImage(file, report, hostFs(dir), '6.12.0-fixture');
    assert.match(byId(blind.checks, 'cmdline-root').detail, /not compared.*no block device list/);
    assert.equal(v.image.files, 1, "etc/os-release is its one file");
    const text = formatVerified(v).join('\n');
    assert.match(text, /^UKI .*x\.efi: x86_64/m);
    assert.match(text, /^Sections: .*\.linux 4\.0 KiB/m);
    assert.match(text, /FAIL cmdline-root/);
    // A UKI whose embedded initrd is corrupted is refused naming the section, not checked as if it were fine.
    const corrupt = Buffer.from(tiny);
    corrupt.write('XXXXXX', findSection(readPe(tiny), '.initrd')!.rawOffset, 'latin1');
    await writeFile(file, corrupt);
    await assert.rejects(verifyImage(file, report, hostFs(dir), 'x', { graph }), (e: unknown) => e instanceof InputError && /not a newc cpio header/.test((e as Error).message));
    // A truncated UKI is refused with the reason, not read out of bounds.
    await writeFile(file, tiny.subarray(0, tiny.length - 4096));
    await assert.rejects(verifyImage(file, report, hostFs(dir), 'x', { graph }), (e: unknown) => e instanceof PeFormatError && /truncated/.test((e as Error).message));
  } finally {
    await cleanup();
  }
});

test('an .initrd made of several archives (an uncompressed microcode cpio, then a compressed one) reads as one image', async () => {
  const first = sectionData(tiny, findSection(readPe(tiny), '.initrd')!);
  const second = gzipSync(first);
  const image = await readInitrd(Buffer.concat([first, Buffer.alloc(512 - (first.length % 512)), second]), 'two');
  assert.equal(image.segments.length, 2);
  assert.deepEqual(image.segments.map((s) => s.compression), ['none', 'gzip']);
  assert.ok(image.read('etc/os-release'));
});

test("the command line of a LUKS2+TPM2 btrfs host checks out against that host's storage", async () => {
  const { report, graph, files } = await host('btrfs-luks-tpm2');
  const options = filterProcCmdline(files.get('cmdline')!);
  const checks = cmdlineChecks(options, report, graph, null);
  assert.deepEqual(checks.filter((c) => !c.ok), []);
  assert.match(byId(checks, 'cmdline-root').detail, /root=UUID=b05b6c7d-0002-4e8f-9a0b-1c2d3e4f5a6b is the host's root/);
  assert.match(byId(checks, 'cmdline-rootflags').detail, /subvolume \/@/);
  assert.match(byId(checks, 'cmdline-luks').detail, /rd\.luks\.\*.*tpm2-device=auto/);
  // Each part taken away fails with a reason.
  const without = (re: RegExp) => cmdlineChecks(options.filter((o) => !re.test(o)), report, graph, null);
  assert.match(byId(without(/^root=/), 'cmdline-root').detail, /no root=/);
  assert.match(byId(without(/^rootflags=/), 'cmdline-rootflags').detail, /default subvolume/);
  const noLuks = byId(without(/^rd\.luks/), 'cmdline-luks');
  assert.equal(noLuks.ok, false);
  assert.match(noLuks.detail, /nothing unlocks luks-b05b6c7d/);
  // … unless the initrd's crypttab has the line.
  const tab = 'luks-b05b6c7d-0001-4e8f-9a0b-1c2d3e4f5a6b UUID=b05b6c7d-0001-4e8f-9a0b-1c2d3e4f5a6b none tpm2-device=auto\n';
  const viaTab = byId(cmdlineChecks(options.filter((o) => !/^rd\.luks/.test(o)), report, graph, tab), 'cmdline-luks');
  assert.ok(viaTab.ok, viaTab.detail);
  assert.match(viaTab.detail, /crypttab/);
  assert.equal(byId(cmdlineChecks([...options, 'rd.luks=no'], report, graph, tab), 'cmdline-luks').ok, false);
  // Another machine's root.
  const other = byId(cmdlineChecks(options.map((o) => (o.startsWith('root=') ? 'root=UUID=00000000-0000-4000-8000-000000000000' : o)), report, graph, null), 'cmdline-root');
  assert.equal(other.ok, false);
  assert.match(other.detail, /names no device of the host/);
  // The same root by another spelling is the same root.
  const byPath = byId(cmdlineChecks(options.map((o) => (o.startsWith('root=') ? 'root=/dev/mapper/luks-b05b6c7d-0001-4e8f-9a0b-1c2d3e4f5a6b' : o)), report, graph, null), 'cmdline-root');
  assert.ok(byPath.ok, byPath.detail);
});

test('a hibernating host needs resume= naming its swap', async () => {
  const { report, graph, files } = await host('luks2-lvm-hibernate');
  assert.ok(report.resume?.usable);
  const options = filterProcCmdline(files.get('cmdline')!);
  const tab = files.get('crypttab')!;
  const ok = cmdlineChecks(options, report, graph, tab);
  assert.deepEqual(ok.filter((c) => !c.ok), []);
  assert.match(byId(ok, 'cmdline-resume').detail, /resume=UUID=5b0c1d2e-0002-4f3a-8b9c-0d1e2f3a4b5c is the swap/);
  const none = byId(cmdlineChecks(options.filter((o) => !o.startsWith('resume=')), report, graph, tab), 'cmdline-resume');
  assert.equal(none.ok, false);
  assert.match(none.detail, /no resume=/);
  const wrong = byId(cmdlineChecks(options.map((o) => (o.startsWith('resume=') ? 'resume=/dev/vda1' : o)), report, graph, tab), 'cmdline-resume');
  assert.equal(wrong.ok, false);
  // Unlocked by crypttab (no rd.luks.* on this Debian host's command line): only with the line in the initrd.
  assert.ok(byId(ok, 'cmdline-luks').ok);
  assert.equal(byId(cmdlineChecks(options, report, graph, null), 'cmdline-luks').ok, false);
});

test("the UKI's command line: a snapshot's own /etc/kernel/cmdline, else its /proc/cmdline without the loader's additions", async () => {
  const { files } = await host('btrfs-luks-tpm2');
  const fs = hostFs('/nonexistent-root');
  const a = await ukiCmdline(fs, files);
  assert.equal(a.source, '/etc/kernel/cmdline');
  assert.ok(a.fromSnapshot);
  const only = new Map(files);
  only.delete('kernel-cmdline');
  only.set('cmdline', `BOOT_IMAGE=/vmlinuz-6.1 initrd=/initrd.img ${files.get('cmdline')}`);
  const b = await ukiCmdline(fs, only);
  assert.equal(b.source, '/proc/cmdline');
  assert.ok(!b.options.some((o) => /^(BOOT_IMAGE|initrd)=/.test(o)));
  only.delete('cmdline');
  await assert.rejects(ukiCmdline(fs, only), /records no kernel command line/);
});

test("ukify's arguments are 60-ukify.install's: config, kernel, initrds in order, the space-prefixed command line, uname, stub, output", () => {
  const argv = ukifyArgv({ ukify: '/usr/bin/ukify', stub: '/s.stub', kernel: '/k', initrds: ['/ucode', '/initrd'], cmdline: ['@root=x', 'quiet'], kernelVersion: '6.12', output: '/o.efi', config: '/etc/kernel/uki.conf' });
  assert.deepEqual(argv, ['/usr/bin/ukify', 'build', '--config', '/etc/kernel/uki.conf', '--linux', '/k', '--initrd', '/ucode', '--initrd', '/initrd', '--cmdline', ' @root=x quiet', '--uname', '6.12', '--stub', '/s.stub', '--output', '/o.efi']);
});

test('the UKI preflight names the true reason on a systemd 252 or a backports 254 without pefile or stub', () => {
  assert.equal(parseSystemdVersion('systemd 254 (254.26-1~bpo12+1)\n+PAM'), 254);
  const old = ukiPreflight({ systemd: 252, systemdVersion: 'systemd 252 (252.39-1~deb12u2)', ukify: null, ukifyBroken: null, stub: null, mkosiMajor: 24, family: 'debian' });
  assert.deepEqual(old.filter((p) => !p.ok).map((p) => p.id), ['uki-systemd', 'uki-ukify', 'uki-stub']);
  assert.match(old[0]!.detail, /systemd 252 cannot build a UKI/);
  assert.equal(old[2]!.fix, 'apt-get install systemd-boot-efi');
  const bpo = ukiPreflight({ systemd: 254, systemdVersion: 'systemd 254 (254.26-1~bpo12+1)', ukify: '/usr/lib/systemd/ukify', ukifyBroken: "ModuleNotFoundError: No module named 'pefile'", stub: null, mkosiMajor: 24, family: 'debian', codename: 'bookworm' });
  assert.deepEqual(bpo.filter((p) => !p.ok).map((p) => p.id), ['uki-ukify', 'uki-stub']);
  assert.match(bpo[1]!.detail, /does not run.*pefile/);
  // Backports' systemd ships ukify itself; what it lacks is the module (bookworm-backports has no systemd-ukify package).
  assert.equal(bpo[1]!.fix, 'apt-get install python3-pefile');
  assert.equal(bpo[2]!.fix, 'apt-get install -t bookworm-backports systemd-boot-efi');
  const good = ukiPreflight({ systemd: 257, systemdVersion: 'systemd 257 (257.13-1~deb13u1)', ukify: '/usr/bin/ukify', ukifyBroken: null, stub: '/usr/lib/systemd/boot/efi/linuxx64.efi.stub', mkosiMajor: 25, family: 'debian' });
  assert.deepEqual(good.filter((p) => !p.ok), []);
});

test("crypttab options the initrd lacks count as carried when the UKI's command line opens the device with them", async () => {
  const { report, files } = await host('btrfs-luks-tpm2');
  const options = filterProcCmdline(files.get('cmdline')!);
  const failing = { id: 'luks-crypttab', ok: false, detail: 'crypttab lines with options that matter are not in the image' };
  const judged = crypttabThroughCmdline(failing, options, report, null);
  assert.ok(judged.ok, judged.detail);
  assert.match(judged.detail, /tpm2-device=auto.*rd\.luks\.options/);
  // Without rd.luks.options= (or with other options) tpm2-device=auto is lost: the failure stands.
  assert.equal(crypttabThroughCmdline(failing, options.filter((o) => !o.startsWith('rd.luks.options=')), report, null).ok, false);
  assert.equal(crypttabThroughCmdline(failing, options.map((o) => (o.startsWith('rd.luks.options=') ? 'rd.luks.options=discard' : o)), report, null).ok, false);
  // A global rd.luks.options= applies to every rd.luks.uuid= device.
  assert.ok(crypttabThroughCmdline(failing, options.map((o) => (o.startsWith('rd.luks.options=') ? 'rd.luks.options=tpm2-device=auto' : o)), report, null).ok);
  // Not opened by rd.luks.uuid=: options alone do nothing.
  assert.equal(crypttabThroughCmdline(failing, options.filter((o) => !o.startsWith('rd.luks.uuid=')), report, null).ok, false);
});

test("this CPU's microcode goes first into .initrd as kernel-install's mkosi plugin builds it; none for a snapshot", async () => {
  const amd = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nstepping\t: 1\n\nprocessor\t: 1\n';
  assert.deepEqual(identifyCpu(amd), { vendor: 'AuthenticAMD', family: 25, model: 1, stepping: 1 });
  assert.deepEqual(microcodeCandidates(identifyCpu(amd)!), ['/usr/lib/firmware/amd-ucode/microcode_amd_fam19h.bin']);
  assert.deepEqual(microcodeCandidates({ vendor: 'GenuineIntel', family: 6, model: 142, stepping: 12 }), ['/usr/lib/firmware/intel-ucode/06-8e-0c', '/usr/lib/firmware/intel-ucode/06-8e-0c.initramfs']);
  assert.equal(identifyCpu('processor : 0\nvendor_id : X\n'), null);
  const { dir, cleanup } = await tempDir();
  try {
    await mkdir(path.join(dir, 'proc'));
    await writeFile(path.join(dir, 'proc/cpuinfo'), amd);
    const fs = hostFs(dir);
    const none = await hostMicrocode(fs, false, 'x86_64');
    assert.ok(!('cpio' in none) && /no microcode for this AuthenticAMD CPU/.test(none.why));
    await mkdir(path.join(dir, 'usr/lib/firmware/amd-ucode'), { recursive: true });
    const blob = Buffer.from([0x44, 0x4d, 0x41, 0x00, 1, 2, 3]);
    await writeFile(path.join(dir, 'usr/lib/firmware/amd-ucode/microcode_amd_fam19h.bin'), blob);
    const found = await hostMicrocode(fs, false, 'x86_64');
    assert.ok('cpio' in found);
    assert.equal(found.cpio.length % 512, 0);
    // The archive reads back, and in front of a compressed initrd (as ukify concatenates them) both are seen.
    const main = sectionData(tiny, findSection(readPe(tiny), '.initrd')!);
    const image = await readInitrd(Buffer.concat([found.cpio, gzipSync(main)]), 'ucode+initrd');
    assert.deepEqual(image.read('kernel/x86/microcode/AuthenticAMD.bin'), blob);
    assert.ok(image.read('etc/os-release'));
    assert.deepEqual(microcodeCpio('AuthenticAMD', blob), found.cpio, 'the same bytes every time');
    assert.match((await hostMicrocode(fs, true, 'x86_64') as { why: string }).why, /snapshot does not record/);
    assert.match((await hostMicrocode(fs, false, 'aarch64') as { why: string }).why, /no early microcode on aarch64/);
  } finally {
    await cleanup();
  }
});
