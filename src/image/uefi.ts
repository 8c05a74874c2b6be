/**
 * Booting a unified kernel image under UEFI firmware (OVMF) in QEMU.
 *
 * A UKI carries its own command line, and that one names the host's root, not
 * the throwaway test disk. So the UKI is booted through systemd-boot from a
 * throwaway ESP, with a Type #1 entry whose `options` give the test disk's
 * command line: with Secure Boot off (OVMF's plain build enrolls no keys)
 * systemd-stub uses the command line its loader passes in place of the
 * embedded .cmdline (stub.c use_load_options(); the slow tier checks it on
 * the stubs of systemd 257 and 262). The ESP is a GPT image with one FAT partition written by sfdisk,
 * mkfs.fat and mtools: nothing is mounted, no loop device is used.
 */
import { copyFile, open, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, WizardError } from '../errors.js';
import { CommandNotFoundError, type Runner } from '../system/run.js';
import { looksLikePe } from './pe.js';
import { installCmd, stubPackage } from '../uki/generator.js';

/** The firmware pairs QEMU can use: code read-only, variables copied per boot. Non-Secure-Boot builds first. */
export const OVMF_PAIRS = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
  { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', vars: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
  { code: '/usr/share/edk2/x64/OVMF_CODE.4m.fd', vars: '/usr/share/edk2/x64/OVMF_VARS.4m.fd' },
  { code: '/usr/share/qemu/ovmf-x86_64-code.bin', vars: '/usr/share/qemu/ovmf-x86_64-vars.bin' },
] as const;

/** The install command for QEMU's UEFI firmware, per distribution family. */
const FIRMWARE_PACKAGE: Record<string, string> = { debian: 'ovmf', fedora: 'edk2-ovmf', opensuse: 'qemu-ovmf-x86_64', arch: 'edk2-ovmf' };

export const SYSTEMD_BOOT_EFI = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';

/** The ESP paths the boot uses. */
export const ESP = {
  fallback: 'EFI/BOOT/BOOTX64.EFI',
  uki: 'EFI/Linux/test.efi',
  entry: 'loader/entries/initrd-wizard-test.conf',
  loaderConf: 'loader/loader.conf',
} as const;

export interface EspFile {
  /** Path on the ESP, '/'-separated. */
  path: string;
  /** A host file to copy, or the text to write. */
  source: { file: string } | { text: string };
}

/** loader.conf: no menu, straight to the one entry. */
export function loaderConf(entryFile: string): string {
  return `timeout 0\ndefault ${path.posix.basename(entryFile)}\nconsole-mode keep\neditor no\n`;
}

/** A Boot Loader Specification Type #1 entry that starts the UKI with the given options. */
export function bootEntry(title: string, efiPath: string, options: string[]): string {
  for (const o of options) if (/[\r\n]/.test(o)) throw new WizardError(`internal: a boot option contains a line break: ${JSON.stringify(o)}`);
  return `title ${title}\nefi /${efiPath}\noptions ${options.join(' ')}\n`;
}

/**
 * What goes on the throwaway ESP: systemd-boot as the firmware's fallback
 * boot file, and one entry that starts the UKI with the test disk's options.
 * (The UKI as the boot file itself would boot its embedded command line, which
 * names the host's root: it could never reach the test disk.)
 */
export function espFiles(uki: string, loader: string, options: string[]): EspFile[] {
  return [
    { path: ESP.fallback, source: { file: loader } },
    { path: ESP.uki, source: { file: uki } },
    { path: ESP.loaderConf, source: { text: loaderConf(ESP.entry) } },
    { path: ESP.entry, source: { text: bootEntry('initrd-wizard boot test', ESP.uki, options) } },
  ];
}

/** Every directory the files need, parents first (mtools' mmd makes one level at a time). */
export function espDirs(files: EspFile[]): string[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

const MiB = 1024 * 1024;
/** The partition starts at 1 MiB, as partitioning tools align it. */
export const ESP_OFFSET = MiB;

/** The ESP's size: the files plus room for FAT's tables and slack, in whole MiB; at least 64 MiB, which keeps FAT32 above its minimum of 65,525 clusters. */
export function espSizeBytes(fileBytes: number): number {
  return Math.max(64, Math.ceil((fileBytes * 1.1) / MiB) + 16) * MiB;
}

/** The sfdisk script: GPT, one EFI System partition of `partBytes` at 1 MiB (the image leaves 1 MiB after it for GPT's backup header). */
export function espPartitionScript(partBytes: number): string {
  return `label: gpt\nstart=${ESP_OFFSET / 512}, size=${partBytes / 512}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ESP"\n`;
}

/** The packages of the tools that write the ESP (Debian and Fedora names agree but for sfdisk). */
const ESP_TOOL_PACKAGE: Record<string, string> = { sfdisk: 'fdisk (Debian) or util-linux', 'mkfs.fat': 'dosfstools', mmd: 'mtools', mcopy: 'mtools' };

/** Writes esp.img in `dir`: GPT + FAT with the files, nothing mounted. Returns its path. */
export async function makeEsp(runner: Runner, dir: string, files: EspFile[]): Promise<string> {
  try {
    return await writeEsp(runner, dir, files);
  } catch (err) {
    if (err instanceof CommandNotFoundError) {
      const tool = err.argv[0]!;
      throw new WizardError(`${tool} is not installed: the throwaway ESP for the UEFI boot is written with it`, { hint: `install ${ESP_TOOL_PACKAGE[tool] ?? tool}` });
    }
    throw err;
  }
}

async function writeEsp(runner: Runner, dir: string, files: EspFile[]): Promise<string> {
  let bytes = 0;
  for (const f of files) bytes += 'file' in f.source ? (await stat(f.source.file)).size : f.source.text.length;
  const part = espSizeBytes(bytes);
  const image = path.join(dir, 'esp.img');
  const fh = await open(image, 'w', 0o600);
  await fh.truncate(ESP_OFFSET + part + MiB);
  await fh.close();
  await runner.run(['sfdisk', '--quiet', '--no-reread', '--no-tell-kernel', image], { input: espPartitionScript(part), timeoutMs: 30_000 });
  await runner.run(['mkfs.fat', '-F', '32', '-n', 'IWESP', `--offset=${ESP_OFFSET / 512}`, image, String(part / 1024)], { timeoutMs: 60_000 });
  const img = `${image}@@${ESP_OFFSET}`;
  for (const d of espDirs(files)) await runner.run(['mmd', '-i', img, `::/${d}`], { timeoutMs: 30_000 });
  for (const f of files) {
    let src: string;
    if ('file' in f.source) src = f.source.file;
    else {
      src = path.join(dir, `esp-${path.posix.basename(f.path)}`);
      await writeFile(src, f.source.text);
    }
    await runner.run(['mcopy', '-i', img, '-o', src, `::/${f.path}`], { timeoutMs: 120_000 });
  }
  return image;
}

/** The first firmware pair present, with a private copy of its variable store (the firmware writes boot entries into it). */
export async function prepareFirmware(dir: string, family = 'debian', pairs: readonly { code: string; vars: string }[] = OVMF_PAIRS): Promise<{ code: string; vars: string }> {
  const exists = (p: string) => stat(p).then((s) => s.isFile(), () => false);
  for (const pair of pairs) {
    if ((await exists(pair.code)) && (await exists(pair.vars))) {
      const vars = path.join(dir, 'OVMF_VARS.fd');
      await copyFile(pair.vars, vars);
      return { code: pair.code, vars };
    }
  }
  throw new WizardError(
    `no UEFI firmware for QEMU: none of ${pairs.map((p) => p.code).join(', ')} (with its VARS file) exists`, { hint: FIRMWARE_PACKAGE[family] ? installCmd(family, FIRMWARE_PACKAGE[family]) : 'install OVMF (edk2 firmware for x86_64 QEMU)' },
  );
}

/** systemd-boot's loader, or an error naming the package. */
export async function findLoader(explicit: string | undefined, family = 'debian', installed = SYSTEMD_BOOT_EFI): Promise<string> {
  const file = explicit ?? installed;
  const st = await stat(file).catch(() => null);
  if (st?.isFile()) return file;
  if (explicit) throw new InputError(`${explicit} (given with --loader) is not a file`, 'pass the path of a systemd-bootx64.efi (systemd-boot\'s EFI loader)');
  throw new WizardError(
    `systemd-boot's EFI loader ${installed} is missing: boot-test starts the UKI through it so that the throwaway disk's command line replaces the UKI's own`, { hint: `${installCmd(family, stubPackage(family))} (the package that also ships the UKI stub), or pass --loader with a systemd-bootx64.efi` },
  );
}

/** The QEMU arguments for the firmware (code read-only, private variables) and the ESP, first in the boot order. */
export function uefiQemuArgs(fw: { code: string; vars: string }, esp: string): string[] {
  return [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${fw.code}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${fw.vars}`,
    '-drive', `if=none,id=esp,format=raw,file=${esp}`,
    '-device', 'virtio-blk-pci,drive=esp,bootindex=0',
  ];
}

/** Strips the firmware's terminal escapes (colours, cursor moves) and carriage returns so lines can be matched. */
export function plainLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;?=]*[A-Za-z]/g, '').replace(/\x1b[()][A-Za-z0-9]/g, '').replace(/\r/g, '');
}

export type UefiStage = 'firmware' | 'loader' | 'kernel' | 'initrd' | 'root' | 'marker';

/**
 * Lines that say what went wrong, and what they mean. `deadEnd`: nothing can
 * follow (the firmware or systemd-boot waits at a shell or menu for a key), so
 * the boot is stopped shortly after instead of waiting out the timeout. The
 * others only explain: the kernel goes on (and with panic=-1 and QEMU's
 * -no-reboot, a panic ends the run by itself).
 */
export const UEFI_FAILURES: { re: RegExp; cause: string; deadEnd: boolean }[] = [
  // systemd-boot's image_start(): the firmware's LoadImage() refused the UKI (a damaged PE header gives "Unsupported").
  { re: /Error loading \\.*\.efi: |Error loading .*: (Load Error|Unsupported|Not Found|Security Violation|Access Denied|Invalid Parameter|Volume Corrupt)/i, cause: 'the firmware refused the image (systemd-boot could not load it)', deadEnd: true },
  { re: /Access Denied|Security Violation/i, cause: 'the firmware refused the image (Secure Boot policy)', deadEnd: false },
  // The kernel's own EFI stub, inside .linux, runs before the kernel proper.
  { re: /EFI stub: (ERROR|WARNING): .*(Decompression failed|decompress|corrupt)/i, cause: 'the kernel image (.linux) is damaged: its EFI stub could not decompress it', deadEnd: false },
  { re: /EFI stub: ERROR: /, cause: 'the kernel\'s EFI stub failed', deadEnd: false },
  // systemd-stub (src/boot/stub.c, linux.c) and systemd-boot reporting the UKI it started failed.
  { re: /linux_exec: Error|Error starting kernel image|Unable to (locate|find) embedded|systemd-stub.*(error|failed|unable)/i, cause: 'systemd-stub could not start the kernel', deadEnd: false },
  { re: /Failed to execute .*\.efi\)?: /i, cause: 'the UKI started but returned an error to systemd-boot', deadEnd: true },
  { re: /Initramfs unpacking failed|invalid magic at start of compressed archive|junk within compressed archive|decompressor failed/i, cause: 'the kernel started but could not unpack the embedded initrd', deadEnd: false },
  { re: /crc error|-- System halted/i, cause: 'the kernel image is damaged: its decompressor stopped', deadEnd: true },
  { re: /Kernel panic - not syncing/, cause: 'the kernel panicked', deadEnd: false },
  // The firmware's last boot option; one failed option alone is no dead end (BdsDxe tries the next).
  { re: /Shell> *$|UEFI Interactive Shell|No bootable option or device was found/i, cause: 'the firmware found nothing it could boot and fell back to its shell or menu', deadEnd: true },
];

/** The failure a serial line announces, if any. */
export function uefiFailure(line: string): string | null {
  return matchFailure(line)?.cause ?? null;
}

/** True when the line says the boot cannot go on by itself. */
export function uefiDeadEnd(line: string): boolean {
  return matchFailure(line)?.deadEnd ?? false;
}

function matchFailure(line: string) {
  const l = plainLine(line);
  return UEFI_FAILURES.find((f) => f.re.test(l));
}

/** How far a UEFI boot got, from its serial console. */
export function uefiStage(lines: string[], marker: string): UefiStage {
  const text = lines.map(plainLine).join('\n');
  if (lines.some((l) => l.includes(marker) && !l.includes('echo'))) return 'marker';
  if (/Switching root|Switch Root/.test(text)) return 'root';
  if (/Reached target .*[Ii]nitrd|initrd\.target/.test(text)) return 'initrd';
  if (/Linux version|EFI stub: |Booting the kernel|Decompressing Linux/.test(text)) return 'kernel';
  if (/systemd-boot|systemd-stub|initrd-wizard boot test/.test(text)) return 'loader';
  return 'firmware';
}

/** One sentence on a failed UEFI boot: the first failure the console announced, else how far it got. */
export function explainUefiFailure(lines: string[], stage: UefiStage, timedOut: boolean): string {
  for (const l of lines) {
    const cause = uefiFailure(l);
    if (cause) return `${cause}: "${plainLine(l).trim().slice(0, 160)}"`;
  }
  const waited = timedOut ? ' before the timeout' : '';
  switch (stage) {
    case 'firmware':
    case 'loader':
      return `the kernel never started${waited} (the firmware or systemd-stub stopped without a message)`;
    case 'kernel':
      return `the kernel started but never reached the initrd${waited}`;
    case 'initrd':
      return `it reached the initrd but not the root${waited}`;
    case 'root':
      return `switch-root happened but the marker never printed${waited}`;
    case 'marker':
      return 'it booted';
  }
}

/** True when the bytes are a PE image (the UKI path of boot-test). */
export async function isPeFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return looksLikePe(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
