/**
 * The pure parts of the UEFI boot test: the ESP's layout and systemd-boot's
 * configuration, and how a serial console is read into a verdict. The console
 * lines are taken from real OVMF boots of trixie's UKIs (systemd 257's
 * systemd-boot and stub, kernel 6.12) with the escapes OVMF writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bootEntry, ESP, ESP_OFFSET, espDirs, makeEsp, espFiles, espPartitionScript, espSizeBytes, explainUefiFailure, findLoader, uefiDeadEnd, isPeFile, loaderConf, plainLine, prepareFirmware, uefiFailure, uefiQemuArgs, uefiStage } from '../../src/image/uefi.js';
import { diskCmdline, kernelCmdlineFromLog, BOOT_MARKER } from '../../src/image/boottest.js';
import { InputError, WizardError } from '../../src/errors.js';
import { fixture, isRoot, ROOT, runCli, tempDir } from '../helpers.js';
import { existsSync } from 'node:fs';
import { systemRunner } from '../../src/system/run.js';
import { spawnSync } from 'node:child_process';

const MARKER = BOOT_MARKER;

test('the ESP holds systemd-boot as the fallback boot file, the UKI, loader.conf and one Type #1 entry with the disk options', () => {
  const files = espFiles('/tmp/x/uki.efi', '/usr/lib/systemd/boot/efi/systemd-bootx64.efi', ['console=ttyS0', 'root=UUID=abc', 'systemd.set_credential=cryptsetup.passphrase:00ff']);
  assert.deepEqual(
    files.map((f) => [f.path, 'file' in f.source ? f.source.file : 'text']),
    [
      ['EFI/BOOT/BOOTX64.EFI', '/usr/lib/systemd/boot/efi/systemd-bootx64.efi'],
      ['EFI/Linux/test.efi', '/tmp/x/uki.efi'],
      ['loader/loader.conf', 'text'],
      ['loader/entries/initrd-wizard-test.conf', 'text'],
    ],
  );
  const entry = files.find((f) => f.path === ESP.entry)!.source as { text: string };
  assert.equal(entry.text, 'title initrd-wizard boot test\nefi /EFI/Linux/test.efi\noptions console=ttyS0 root=UUID=abc systemd.set_credential=cryptsetup.passphrase:00ff\n');
  const conf = files.find((f) => f.path === ESP.loaderConf)!.source as { text: string };
  assert.match(conf.text, /^timeout 0$/m);
  // systemd-boot matches `default` against the entry's file name.
  assert.match(conf.text, /^default initrd-wizard-test\.conf$/m);
});

test('an option with a line break cannot smuggle a second key into the entry', () => {
  assert.throws(() => bootEntry('t', 'EFI/Linux/a.efi', ['root=/dev/vda', 'x\ninitrd /evil']), WizardError);
});

test('the ESP directories come parents first, each once (mmd makes one level at a time)', () => {
  assert.deepEqual(espDirs(espFiles('/u.efi', '/l.efi', [])), ['EFI', 'loader', 'EFI/BOOT', 'EFI/Linux', 'loader/entries']);
});

test('the ESP is big enough for its files, in whole MiB, never under 64 MiB; the partition script is GPT with the ESP type at 1 MiB', () => {
  const MiB = 1 << 20;
  assert.equal(espSizeBytes(1000), 64 * MiB);
  const big = espSizeBytes(56 * MiB);
  assert.ok(big >= 56 * MiB * 1.1 && big % MiB === 0, String(big));
  const script = espPartitionScript(80 * MiB);
  assert.match(script, /^label: gpt$/m);
  assert.match(script, /start=2048, size=163840, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B/);
});

test('QEMU gets the firmware code read-only, a private variable store, and the ESP first in the boot order', () => {
  const args = uefiQemuArgs({ code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/tmp/b/OVMF_VARS.fd' }, '/tmp/b/esp.img');
  assert.ok(args.includes('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd'));
  assert.ok(args.includes('if=pflash,format=raw,unit=1,file=/tmp/b/OVMF_VARS.fd'));
  assert.ok(args.includes('virtio-blk-pci,drive=esp,bootindex=0'));
});

test('the firmware: the first pair present, its VARS copied privately; none present names the package', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'iw-uefi-'));
  try {
    const pairs = [
      { code: path.join(dir, 'absent_CODE.fd'), vars: path.join(dir, 'absent_VARS.fd') },
      { code: path.join(dir, 'CODE.fd'), vars: path.join(dir, 'VARS.fd') },
    ];
    await writeFile(pairs[1]!.code, 'code');
    await writeFile(pairs[1]!.vars, 'vars');
    await assert.rejects(prepareFirmware(dir, 'fedora', pairs.slice(0, 1)), (e: WizardError) => /no UEFI firmware/.test(e.message) && e.hint === 'dnf install edk2-ovmf');
    const out = path.join(dir, 'boot');
    await mkdir(out);
    const fw = await prepareFirmware(out, 'debian', pairs);
    assert.equal(fw.code, pairs[1]!.code);
    assert.equal(fw.vars, path.join(out, 'OVMF_VARS.fd'));
    assert.equal(await readFile(fw.vars, 'utf8'), 'vars');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('systemd-boot missing: the error names the package per distribution; a bad --loader is bad input', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'iw-uefi-'));
  try {
    await assert.rejects(findLoader(path.join(dir, 'nope.efi')), InputError);
    for (const [family, hint] of [['debian', 'apt-get install systemd-boot-efi'], ['fedora', 'dnf install systemd-boot-unsigned']] as const) {
      await assert.rejects(findLoader(undefined, family, path.join(dir, 'absent', 'systemd-bootx64.efi')), (e: WizardError) => !(e instanceof InputError) && /EFI loader .* is missing/.test(e.message) && e.hint!.startsWith(hint));
    }
    const loader = path.join(dir, 'systemd-bootx64.efi');
    await writeFile(loader, 'MZ');
    assert.equal(await findLoader(loader), loader);
    assert.equal(await isPeFile(loader), true);
    await writeFile(path.join(dir, 'cpio'), '070701');
    assert.equal(await isPeFile(path.join(dir, 'cpio')), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Real console lines (trixie UKI under OVMF): escapes kept as OVMF wrote them.
const ESC = '\x1b';
const BDS = [`${ESC}[2J${ESC}[01;01H${ESC}[=3h${ESC}[2J${ESC}[01;01HBdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)`, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)'];
const BAD_HEADER = [
  ...BDS,
  `${ESC}[1m${ESC}[31m${ESC}[40m../src/boot/boot.c:2576@image_start: Error loading \\EFI\\Linux\\test.efi: Unsupported`,
  `${ESC}[0m${ESC}[37m${ESC}[40mBdsDxe: failed to start Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0): Unsupported`,
  'BdsDxe: starting Boot0002 "EFI Internal Shell" from Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/FvFile(7C04A583-9E3E-4F1C-AD65-E05268D0B4D1)',
  `${ESC}[2J${ESC}[01;01H${ESC}[01;01HUEFI Interactive Shell v2.2\r`,
];
const BAD_LINUX = [
  ...BDS,
  'EFI stub: WARNING: Decompression failed: ZSTD-compressed data is corrupt',
  'EFI stub: ERROR: Failed to decompress kernel',
  'EFI stub: ERROR: efi_stub_entry() failed!',
  `${ESC}[1m${ESC}[31m${ESC}[40m../src/boot/linux.c:153@linux_exec: Error starting kernel image: Load error`,
  `${ESC}[0m${ESC}[37m${ESC}[40m${ESC}[1m${ESC}[31m${ESC}[40m../src/boot/boot.c:2656@image_start: Failed to execute initrd-wizard boot test (\\EFI\\Linux\\test.efi): Load error`,
];
const BAD_INITRD = [
  ...BDS,
  'EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path',
  '[    0.000000] Linux version 6.12.117+deb13-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1 (2026-11-12)',
  '[    0.000000] Command line: console=ttyS0 panic=-1 rw systemd.show_status=1 rd.udev.log_level=3 root=UUID=6c399ddc-7336-417b-9305-ba592105960a',
  '[    5.580294] Initramfs unpacking failed: ZSTD-compressed data is corrupt',
  '[    8.810000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)',
];
const GOOD = [
  ...BAD_INITRD.slice(0, 5),
  '[  OK  ] Reached target initrd.target - Initrd Default Target.',
  '[  OK  ] Reached target initrd-switch-root.target - Switch Root.',
  '         Starting initrd-switch-root.service - Switch Root...',
  MARKER,
];

test('the console is read without the firmware\'s escapes and carriage returns', () => {
  assert.equal(plainLine(BAD_HEADER[2]!), '../src/boot/boot.c:2576@image_start: Error loading \\EFI\\Linux\\test.efi: Unsupported');
  assert.equal(plainLine(BAD_HEADER[5]!), 'UEFI Interactive Shell v2.2');
  assert.equal(plainLine(BDS[0]!), 'BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)');
});

test('a damaged PE header: the firmware refused the image, and the explanation quotes the line', () => {
  assert.equal(uefiStage(BAD_HEADER, MARKER), 'firmware');
  const why = explainUefiFailure(BAD_HEADER, 'firmware', false);
  assert.match(why, /^the firmware refused the image/);
  assert.match(why, /Error loading \\EFI\\Linux\\test\.efi: Unsupported/);
});

test('a damaged .linux: the kernel\'s EFI stub could not decompress it (the first failure, not systemd-boot\'s echo of it)', () => {
  assert.equal(uefiStage(BAD_LINUX, MARKER), 'kernel');
  assert.match(explainUefiFailure(BAD_LINUX, 'kernel', false), /^the kernel image \(\.linux\) is damaged/);
  assert.equal(uefiFailure(BAD_LINUX.at(-1)!), 'the UKI started but returned an error to systemd-boot');
  assert.equal(uefiFailure(BAD_LINUX.at(-2)!), 'systemd-stub could not start the kernel');
});

test('a damaged .initrd: the kernel ran but could not unpack it', () => {
  assert.equal(uefiStage(BAD_INITRD, MARKER), 'kernel');
  assert.match(explainUefiFailure(BAD_INITRD, 'kernel', false), /could not unpack the embedded initrd: "\[ +5\.580294\] Initramfs unpacking failed/);
});

test('a good boot: no failure line, every stage up to the marker, and the kernel reports the loader\'s command line', () => {
  assert.equal(GOOD.map(uefiFailure).filter(Boolean).length, 0);
  assert.equal(uefiStage(GOOD, MARKER), 'marker');
  assert.equal(uefiStage(GOOD.slice(0, -1), MARKER), 'root');
  assert.equal(uefiStage(GOOD.slice(0, 6), MARKER), 'initrd');
  assert.equal(kernelCmdlineFromLog(GOOD), 'console=ttyS0 panic=-1 rw systemd.show_status=1 rd.udev.log_level=3 root=UUID=6c399ddc-7336-417b-9305-ba592105960a');
  assert.equal(kernelCmdlineFromLog(BAD_HEADER), null);
  // The marker init's own `echo` line (the script echoed by a shell trace) does not count.
  assert.equal(uefiStage([...BDS, `/bin/busybox echo "${MARKER}"`], MARKER), 'firmware');
});

test('the boot is cut short only at a dead end (firmware refusal, loader error, firmware shell), never while the kernel can still go on', () => {
  assert.deepEqual(BAD_HEADER.map(uefiDeadEnd), [false, false, true, false, false, true]);
  assert.equal(BAD_LINUX.filter(uefiDeadEnd).length, 1, 'systemd-boot\'s "Failed to execute" after the stub gave up');
  // A panic ends the run by itself (panic=-1, -no-reboot); unpacking errors may still be followed by more.
  assert.equal(BAD_INITRD.some(uefiDeadEnd), false);
  assert.equal(GOOD.some(uefiDeadEnd), false);
  assert.equal(uefiDeadEnd('BdsDxe: failed to start Boot0003 "UEFI Misc Device 2" from PciRoot(0x0)/Pci(0x3,0x0): Not Found'), false);
});

test('a silent stop is explained by how far the boot got', () => {
  assert.match(explainUefiFailure(BDS, 'firmware', true), /kernel never started before the timeout/);
  assert.match(explainUefiFailure(GOOD.slice(0, 6), 'initrd', true), /reached the initrd but not the root before the timeout/);
});

test('the disk command line carries the credential unless left out', () => {
  const disk = { image: '/x', cmdline: ['root=/dev/mapper/luks-1'], credential: 'cryptsetup.passphrase:ab' };
  assert.deepEqual(diskCmdline(disk), ['root=/dev/mapper/luks-1', 'systemd.set_credential=cryptsetup.passphrase:ab']);
  assert.deepEqual(diskCmdline(disk, true), ['root=/dev/mapper/luks-1']);
});

test('boot-test refuses bad input before anything boots: a missing image, --format uki with a cpio, a --loader that is not a file (exit 2)', async () => {
  const { dir, cleanup } = await tempDir('iw-uefi-cli-');
  try {
    const snap = fixture('trixie-luks2-ext4');
    const missing = await runCli(['boot-test', '--snapshot', snap, '--image', path.join(dir, 'nope.efi')]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /cannot read .*nope\.efi: it does not exist/);
    const cpio = path.join(dir, 'initrd.cpio');
    await writeFile(cpio, '070701' + '0'.repeat(104));
    const notUki = await runCli(['boot-test', '--snapshot', snap, '--image', cpio, '--format', 'uki']);
    assert.equal(notUki.code, 2, notUki.stderr);
    assert.match(notUki.stderr, /is not a unified kernel image/);
    const uki = path.join(dir, 'x.efi');
    await writeFile(uki, 'MZ');
    const noLoader = await runCli(['boot-test', '--snapshot', snap, '--image', uki, '--loader', path.join(dir, 'systemd-bootx64.efi')]);
    assert.equal(noLoader.code, 2, noLoader.stderr);
    assert.match(noLoader.stderr, /given with --loader\) is not a file/);
    assert.doesNotMatch(noLoader.stderr, /at .*\.js:\d+/, 'no stack trace');
  } finally {
    await cleanup();
  }
});

const haveEspTools = ['sfdisk', 'mkfs.fat', 'mcopy', 'mtype'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0);

test('the ESP image: a GPT EFI System partition at 1 MiB whose FAT holds the files, read back with mtools (nothing mounted)', { skip: haveEspTools ? false : 'sfdisk, dosfstools or mtools missing' }, async () => {
  const { dir, cleanup } = await tempDir('iw-esp-');
  try {
    const loader = path.join(dir, 'systemd-bootx64.efi');
    await writeFile(loader, 'MZ loader');
    const uki = path.join(ROOT, 'test/fixtures/uki/tiny.efi');
    const esp = await makeEsp(systemRunner, dir, espFiles(uki, loader, ['console=ttyS0', 'root=UUID=abc']));
    const table = JSON.parse((await systemRunner.run(['sfdisk', '--json', esp])).stdout) as { partitiontable: { label: string; partitions: Array<{ start: number; type: string }> } };
    assert.equal(table.partitiontable.label, 'gpt');
    assert.deepEqual(table.partitiontable.partitions.map((p) => [p.start, p.type]), [[2048, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B']]);
    const img = `${esp}@@${ESP_OFFSET}`;
    const type = async (p: string) => (await systemRunner.run(['mtype', '-i', img, `::/${p}`])).stdout;
    assert.equal(await type(ESP.entry), 'title initrd-wizard boot test\nefi /EFI/Linux/test.efi\noptions console=ttyS0 root=UUID=abc\n');
    assert.match(await type(ESP.loaderConf), /^default initrd-wizard-test\.conf$/m);
    assert.equal(await type(ESP.fallback), 'MZ loader');
    const copied = path.join(dir, 'back.efi');
    await systemRunner.run(['mcopy', '-i', img, `::/${ESP.uki}`, copied]);
    assert.deepEqual(await readFile(copied), await readFile(uki));
  } finally {
    await cleanup();
  }
});

test('a missing ESP tool is named with its package: boot-test with a PATH that has no mtools', { skip: !isRoot ? 'needs root (the throwaway LUKS2 disk is made first)' : existsSync('/usr/sbin/mmd') || existsSync('/sbin/mmd') ? 'mtools lies in sbin here' : false }, async () => {
  const { dir, cleanup } = await tempDir('iw-uefi-path-');
  try {
    const efi = path.join(dir, 'x.efi');
    await writeFile(efi, 'MZ');
    const r = await runCli(['boot-test', '--snapshot', fixture('trixie-luks2-ext4'), '--image', efi, '--loader', efi], { PATH: '/usr/sbin:/sbin' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /mmd is not installed: the throwaway ESP for the UEFI boot is written with it/);
    assert.match(r.stderr, /next step: install mtools/);
  } finally {
    await cleanup();
  }
});

test('a kernel that dies before running the initrd is told apart from an image that fails', async () => {
  const { kernelCrashedEarly } = await import('../../src/image/boottest.js');
  // The console of a real failed attempt: Debian's 7.2 kernel under TCG with two vCPUs, 1.8 s into the boot.
  const early = [
    '[    1.823060]  do_one_initcall+0x8e/0x3d0',
    '[    1.823078]  kernel_init_freeable+0x2bc/0x340',
    '[    1.823631] ---[ end trace 0000000000000000 ]---',
    '[    1.823631] Oops: int3: 0000 [#2] SMP NOPTI',
    '[    1.823728] RIP: 0010:sched_clock_cpu+0x9/0x230',
    '[    1.823943] Kernel panic - not syncing: Fatal exception in interrupt',
    '[    3.438512] Kernel Offset: 0x35200000 from 0xffffffff81000000',
  ];
  assert.match(kernelCrashedEarly(early) ?? '', /^the kernel crashed before running the initrd \(Oops: int3: 0000 \[#2\] SMP NOPTI\)/);
  // What an image can cause is never retried away.
  assert.equal(kernelCrashedEarly(['[    2.1] Initramfs unpacking failed: invalid magic at start of compressed archive', '[    2.5] VFS: Unable to mount root fs on unknown-block(0,0)', '[    2.5] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)']), null);
  assert.equal(kernelCrashedEarly(['[    1.9] Run /init as init process', '[    2.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100']), null);
  assert.equal(kernelCrashedEarly(['[    9.0] INITRD-WIZARD-BOOT-OK']), null);
});
