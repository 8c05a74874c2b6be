/**
 * What `install --layout uki` needs to know about the root before it plans:
 * which systemd's kernel-install will run, whether ukify and the EFI stub are
 * there, where $BOOT is and how much room it has, the command line the UKI
 * gets, and whether ukify will sign it. Reads only; plan.ts turns the facts
 * into file changes and notes, install.ts into refusals.
 */
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../limits.js';
import { hostFs, isFile, type HostFs } from '../system/files.js';
import type { Runner } from '../system/run.js';
import { CMDLINE_FILES, filterProcCmdline, parseCmdlineFile } from '../uki/cmdline.js';
import { UKI_CONF_PATHS } from '../uki/assemble.js';
import { pickUkiGenerator, stubPackage, type UkiGenerator } from '../uki/generator.js';
import { brokenUkifyFix, detectUkiToolchain } from '../uki/detect.js';

/** The stub (~100–200 KiB) plus ukify's section alignment: the part of a UKI that is neither kernel nor initrd. */
export const STUB_ALLOWANCE = 200 * 1024;


// ---------------------------------------------------------------------------
// The command line

export interface PlannedCmdline {
  /** The file kernel-install reads now, when there is one: nothing to write then. */
  existing: (typeof CMDLINE_FILES)[number] | null;
  options: string[];
  /** Where the options come from, in words, for the plan. */
  from: string;
}

/**
 * The command line the UKI will carry. When the root has no cmdline file,
 * 60-ukify.install would read /proc/cmdline at the moment kernel-install runs:
 * install writes it down now, from the machine it describes (the snapshot's
 * host, else the root's own /proc, else this running system, said as such).
 */
export async function plannedCmdline(fs: HostFs, opts: { snapshotCmdline: string | null; rooted: boolean; live: () => Promise<string | null> }): Promise<PlannedCmdline | null> {
  for (const file of CMDLINE_FILES) {
    const text = await fs.read(file).catch(() => null);
    if (text !== null) return { existing: file, options: parseCmdlineFile(text), from: file };
  }
  if (opts.snapshotCmdline !== null) return { existing: null, options: filterProcCmdline(opts.snapshotCmdline), from: "the snapshot's /proc/cmdline (the host it describes)" };
  if (opts.rooted) {
    const own = await fs.read('/proc/cmdline').catch(() => null);
    if (own !== null) return { existing: null, options: filterProcCmdline(own), from: "the root's /proc/cmdline" };
  }
  const live = await opts.live();
  if (live === null) return null;
  return {
    existing: null,
    options: filterProcCmdline(live),
    from: opts.rooted ? "this running system's /proc/cmdline (the root has none): check it is right for the machine that boots this root" : '/proc/cmdline without the boot loader\'s BOOT_IMAGE= and initrd=',
  };
}

// ---------------------------------------------------------------------------
// Signing

export interface UkiSigning {
  conf: string;
  key: string;
  cert: string;
  tool: string;
}

/** The [UKI] section's Secure Boot settings (ukify's config: INI, last assignment wins, "#"/";" comments). */
export function parseUkiConf(text: string): { key?: string; cert?: string; tool?: string } {
  let section = '';
  const out: { key?: string; cert?: string; tool?: string } = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!.trim();
      continue;
    }
    if (section !== 'UKI') continue;
    const kv = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    if (kv[1] === 'SecureBootPrivateKey') out.key = kv[2]!;
    if (kv[1] === 'SecureBootCertificate') out.cert = kv[2]!;
    if (kv[1] === 'SecureBootSigningTool') out.tool = kv[2]!;
  }
  return out;
}

/** The signing ukify will do, or null when uki.conf configures none. */
export async function ukiSigning(fs: HostFs): Promise<{ signing: UkiSigning | null; problems: string[] }> {
  for (const conf of UKI_CONF_PATHS) {
    const text = await fs.read(conf).catch(() => null);
    if (text === null) continue;
    const c = parseUkiConf(text);
    if (!c.key && !c.cert) return { signing: null, problems: [] };
    const problems: string[] = [];
    if (!c.key || !c.cert) problems.push(`${conf} sets ${c.key ? 'SecureBootPrivateKey but no SecureBootCertificate' : 'SecureBootCertificate but no SecureBootPrivateKey'}: ukify cannot sign with half a key pair (set both in its [UKI] section)`);
    // A key may be an engine/provider designation ("pkcs11:…"); only paths are checked.
    for (const [what, p] of [['SecureBootPrivateKey', c.key], ['SecureBootCertificate', c.cert]] as const) {
      if (p && p.startsWith('/') && !(await isFile(fs, p))) problems.push(`${conf}: ${what}=${p} does not exist: ukify would fail and kernel-install would install no UKI`);
    }
    return { signing: c.key && c.cert ? { conf, key: c.key, cert: c.cert, tool: c.tool ?? 'sbsign' } : null, problems };
  }
  return { signing: null, problems: [] };
}

// ---------------------------------------------------------------------------
// $BOOT and its free space

/**
 * $BOOT as kernel-install finds it without $BOOT_ROOT: the first of /efi,
 * /boot, /boot/efi that already holds boot loader entries or UKIs, else an
 * ESP mounted at /efi or /boot/efi (its own file system), else /boot.
 * systemd >= 255 asks the partition table instead of looking at directories;
 * on a disk set up by a distribution both find the same place.
 */
export async function findBoot(fs: HostFs): Promise<{ dir: string; why: string }> {
  const isDir = async (p: string) => (await fs.stat(p).catch(() => null))?.isDirectory() ?? false;
  for (const pref of ['/efi', '/boot', '/boot/efi']) {
    for (const suff of ['EFI/Linux', 'loader/entries', 'loader']) if (await isDir(`${pref}/${suff}`)) return { dir: pref, why: `it has ${suff}/` };
  }
  for (const pref of ['/efi', '/boot/efi']) {
    const [a, b] = [await fs.stat(pref).catch(() => null), await fs.stat(path.posix.dirname(pref)).catch(() => null)];
    if (a?.isDirectory() && b && a.dev !== b.dev) return { dir: pref, why: 'a file system is mounted there' };
  }
  return { dir: '/boot', why: 'no ESP or XBOOTLDR was found, so kernel-install falls back to it' };
}

export interface SpaceEstimate {
  kernel: number;
  initrd: number;
  initrdFrom: string;
  /** A UKI for this kernel already there, which install keeps as the fallback copy. */
  kept: number;
  need: number;
}

export function estimateUkiSpace(kernel: number, initrd: number, initrdFrom: string, kept: number): SpaceEstimate {
  return { kernel, initrd, initrdFrom, kept, need: kernel + initrd + STUB_ALLOWANCE + kept };
}

export function describeSpace(boot: string, e: SpaceEstimate, free: number | null): string {
  const parts = `kernel ${e.kernel ? formatBytes(e.kernel) : e.initrdFrom.startsWith('the built UKI') ? '(in the built UKI)' : '(no image found for this kernel version: not counted)'} + initrd ${formatBytes(e.initrd)} (${e.initrdFrom}) + ~${formatBytes(STUB_ALLOWANCE)} for the stub`;
  const kept = e.kept ? `, plus ${formatBytes(e.kept)} to keep the current UKI as the fallback` : '';
  return `$BOOT ${boot} needs about ${formatBytes(e.need)} for the UKI (an estimate: ${parts}${kept})${free === null ? '' : `; it has ${formatBytes(free)} free`}`;
}

// ---------------------------------------------------------------------------
// Everything install needs to know for layout=uki, gathered in one place

export interface UkiFacts {
  /** null when the root cannot build a UKI (problems says why). */
  generator: UkiGenerator | null;
  problems: string[];
  notes: string[];
  cmdline: PlannedCmdline | null;
  boot: { dir: string; why: string };
  signing: UkiSigning | null;
}

export interface UkiFactsInput {
  fs: HostFs;
  runner: Runner;
  /** Installing into another root than /. */
  rooted: boolean;
  mkosiMajor: number | null;
  family: string;
  codename?: string;
  wanted?: UkiGenerator;
  /** The snapshot's /proc/cmdline, when installing for a snapshot's host. */
  snapshotCmdline: string | null;
  kver: string;
}

/** A plugin kernel-install will run: in /usr/lib/kernel/install.d and not masked or replaced by /etc. */
async function pluginEnabled(fs: HostFs, name: string): Promise<boolean> {
  const local = await fs.readlink(`/etc/kernel/install.d/${name}`).catch(() => null);
  if (local === '/dev/null') return false;
  return (await isFile(fs, `/etc/kernel/install.d/${name}`)) || (await isFile(fs, `/usr/lib/kernel/install.d/${name}`));
}

export async function ukiFacts(o: UkiFactsInput): Promise<UkiFacts> {
  const { fs, runner } = o;
  const problems: string[] = [];
  const notes: string[] = [];
  const t = await detectUkiToolchain(runner, fs, { rooted: o.rooted, mkosiMajor: o.mkosiMajor, family: o.family, codename: o.codename });
  const systemdFrom = t.systemdFrom;
  // On this system ukify must also run: a copy without python3-pefile fails at its first import.
  if (t.ukifyBroken) problems.push(`--layout uki: ${t.ukify} does not run (${t.ukifyBroken}): 60-ukify.install would fail at every kernel-install (fix: ${brokenUkifyFix(t)})`);
  const choice = pickUkiGenerator(t, o.wanted);
  let generator: UkiGenerator | null = null;
  if (!choice.ok) {
    for (const p of choice.problems) problems.push(`--layout uki: ${p.detail}${p.fix ? ` (fix: ${p.fix})` : ''}`);
  } else {
    generator = choice.generator;
    notes.push(`uki_generator=${generator}: ${choice.why}; systemd ${t.systemd ?? '(version unknown)'} (${systemdFrom}), ukify ${t.ukify}, the EFI stub ${t.stub} (${stubPackage(o.family)})`);
    // ukify's plugin and 90-uki-copy.install must be there and not masked, or kernel-install installs no UKI.
    for (const name of ['60-ukify.install', '90-uki-copy.install']) {
      if (!(await pluginEnabled(fs, name))) {
        problems.push(`--layout uki: kernel-install's ${name} is missing or masked${o.rooted ? ' in the root' : ''}, so no UKI would reach $BOOT/EFI/Linux (fix: restore it — it comes with systemd ${t.systemd ?? '>= 254'} — or remove the /dev/null link in /etc/kernel/install.d)`);
        generator = null;
      }
    }
  }
  const signed = await ukiSigning(fs);
  problems.push(...signed.problems.map((p) => `--layout uki: ${p}`));
  if (signed.signing) {
    const s = signed.signing;
    const subject = await runner
      .run(['openssl', 'x509', '-noout', '-subject', '-in', fs.resolve(s.cert)], { timeoutMs: 30_000 })
      .then((r) => r.stdout.trim().replace(/^subject\s*=\s*/, ''))
      .catch(() => null);
    notes.push(`the UKI will be signed for Secure Boot by ukify (${s.tool}, from ${s.conf}) with the certificate ${s.cert}${subject ? ` (${subject})` : ''}; firmware that enforces Secure Boot boots it only if that certificate is enrolled`);
  } else notes.push('the UKI will not be signed: no SecureBootPrivateKey/SecureBootCertificate in uki.conf (firmware that enforces Secure Boot will refuse it unless it is signed)');
  const cmdline = await plannedCmdline(fs, { snapshotCmdline: o.snapshotCmdline, rooted: o.rooted, live: () => hostFs('/').read('/proc/cmdline').catch(() => null) });
  if (!cmdline) problems.push('--layout uki: no kernel command line is known (no /etc/kernel/cmdline, no /proc/cmdline): write the one the machine boots with to /etc/kernel/cmdline');
  else if (!cmdline.options.some((x) => x.startsWith('root=') || x.startsWith('mount.usr='))) notes.push(`the UKI's command line has no root=: the initrd must find the root through systemd-gpt-auto-generator (the Discoverable Partitions Specification); if it cannot, add root= to ${KERNEL_CMDLINE_FILE}`);
  return { generator, problems, notes, cmdline, boot: await findBoot(fs), signing: signed.signing };
}

const KERNEL_CMDLINE_FILE = '/etc/kernel/cmdline';

/** The space check: the estimate as a plan note, and a refusal when $BOOT clearly cannot hold it. */
export async function ukiSpace(fs: HostFs, boot: { dir: string; why: string }, kver: string, builtImage: string | null): Promise<{ note: string; problem: string | null }> {
  const size = async (f: HostFs, p: string) => {
    const st = await f.stat(p).catch(() => null);
    return st?.isFile() ? st.size : null;
  };
  let kernel = 0;
  for (const p of [`/usr/lib/modules/${kver}/vmlinuz`, `/boot/vmlinuz-${kver}`]) if (!kernel) kernel = (await size(fs, p)) ?? 0;
  let initrd = 0;
  let initrdFrom = 'not built yet and none installed: not counted';
  const built = builtImage ? await size(hostFs('/'), builtImage) : null;
  // A record of `build --format uki` is the whole UKI already: its size is the estimate.
  if (built !== null && builtImage!.endsWith('.efi')) [kernel, initrd, initrdFrom] = [0, Math.max(0, built - STUB_ALLOWANCE), 'the built UKI, kernel and stub included'];
  else if (built !== null) [initrd, initrdFrom] = [built, 'the built image'];
  else {
    for (const p of [`/boot/initrd.img-${kver}`, `/boot/initramfs-${kver}.img`]) {
      const s = await size(fs, p);
      if (s !== null && !initrd) [initrd, initrdFrom] = [s, `the current ${p}`];
    }
  }
  let kept = 0;
  const linux = `${boot.dir}/EFI/Linux`;
  for (const name of (await fs.list(linux).catch(() => null)) ?? []) {
    if (new RegExp(`-${kver.replace(/[.+]/g, '\\$&')}(\\+\\d+(-\\d+)?)?\\.efi$`).test(name) && !kept) kept = (await size(fs, `${linux}/${name}`)) ?? 0;
  }
  const e = estimateUkiSpace(kernel, initrd, initrdFrom, kept);
  // The nearest directory that exists: $BOOT itself may not yet.
  let dir = boot.dir;
  while (dir !== '/' && !(await fs.stat(dir).catch(() => null))?.isDirectory()) dir = path.posix.dirname(dir);
  const st = await statfs(fs.resolve(dir)).catch(() => null);
  const free = st ? Number(st.bavail) * Number(st.bsize) : null;
  const note = `${describeSpace(boot.dir, e, free)} ($BOOT is ${boot.dir}: ${boot.why})`;
  const problem = free !== null && free < e.need ? `--layout uki: ${describeSpace(boot.dir, e, free)}: the next kernel-install would fail (fix: free space there, e.g. kernel-install remove an old kernel, or keep --layout bls)` : null;
  return { note, problem };
}
