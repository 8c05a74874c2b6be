/**
 * Builds a UKI the way kernel-install would on this host: mkosi-initrd's
 * initrd wrapped by ukify with the arguments systemd's 60-ukify.install
 * gives it (kernel, initrds, the command line it finds, --uname, the
 * /etc/kernel/uki.conf it finds as --config).
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { WizardError } from '../errors.js';
import type { Preflight } from '../mkosi/build.js';
import { parseLsblk, type BlockGraph } from '../host/parse/lsblk.js';
import { parseKeyValue } from '../host/parse/keyvalue.js';
import { CommandCancelledError, CommandFailedError, CommandNotFoundError, type Runner } from '../system/run.js';
import { isFile, type HostFs } from '../system/files.js';
import { filterProcCmdline, kernelCmdline, parseCmdlineFile, type CmdlineSource } from './cmdline.js';
import { identifyCpu, microcodeCandidates, microcodeCpio } from './microcode.js';
import { readBeneath } from '../system/rooted.js';
import { LIMITS } from '../limits.js';
import { ukiPrerequisites, type UkiGenerator } from './generator.js';
import { archOf, brokenUkifyFix, type DetectedUkiToolchain } from './detect.js';
import { commandLine } from '../paths.js';


/** One preflight line per prerequisite, the failing ones with ukiPrerequisites' reason and fix. */
export function ukiPreflight(t: Omit<DetectedUkiToolchain, 'systemdFrom'>): Preflight[] {
  const problems = ukiPrerequisites(t);
  const problem = (re: RegExp) => problems.find((p) => re.test(p.detail));
  const item = (id: string, re: RegExp, okDetail: string): Preflight => {
    const p = problem(re);
    return p ? { id, ok: false, detail: p.detail, ...(p.fix ? { fix: p.fix } : {}) } : { id, ok: true, detail: okDetail };
  };
  const items: Preflight[] = [
    item('uki-systemd', /^kernel-install of systemd/, t.systemdVersion ? `${t.systemdVersion}: kernel-install builds UKIs (>= 254)` : 'systemd version unknown (neither systemctl nor kernel-install answered --version)'),
    t.ukify && t.ukifyBroken
      ? { id: 'uki-ukify', ok: false, detail: `${t.ukify} does not run (${t.ukifyBroken})`, fix: brokenUkifyFix(t) }
      : item('uki-ukify', /^ukify is not installed/, `ukify: ${t.ukify ?? ''}`),
    item('uki-stub', /EFI stub/, `EFI stub: ${t.stub ?? ''}`),
  ];
  return items;
}


/** The generator install.conf asks for (kernel-install reads /etc/kernel first, then /usr/lib/kernel). */
export async function configuredUkiGenerator(fs: HostFs): Promise<UkiGenerator | undefined> {
  for (const f of ['/etc/kernel/install.conf', '/usr/lib/kernel/install.conf']) {
    const text = await fs.read(f).catch(() => null);
    if (text === null) continue;
    const g = parseKeyValue(text).get('uki_generator');
    return g === 'mkosi' ? 'mkosi' : g === 'ukify' ? 'ukify' : undefined;
  }
  return undefined;
}

export interface UkiCmdline {
  options: string[];
  source: CmdlineSource;
  /** Read from the snapshot of the target machine, not from this one. */
  fromSnapshot: boolean;
}

/**
 * The command line the UKI gets. For a snapshot, the target machine's
 * (its /etc/kernel/cmdline, else its /proc/cmdline filtered): this machine's
 * files say nothing about that one's root.
 */
export async function ukiCmdline(fs: HostFs, snapshotFiles: Map<string, string> | null): Promise<UkiCmdline> {
  if (snapshotFiles) {
    const file = snapshotFiles.get('kernel-cmdline');
    if (file !== undefined) return { options: parseCmdlineFile(file), source: '/etc/kernel/cmdline', fromSnapshot: true };
    const proc = snapshotFiles.get('cmdline');
    if (proc !== undefined) return { options: filterProcCmdline(proc), source: '/proc/cmdline', fromSnapshot: true };
    throw new WizardError('the snapshot records no kernel command line (neither /etc/kernel/cmdline nor /proc/cmdline)', { hint: 'capture the snapshot again with `initrd-wizard snapshot` on that machine' });
  }
  const found = await kernelCmdline(fs);
  if (!found) throw new WizardError('no kernel command line: neither /etc/kernel/cmdline, /usr/lib/kernel/cmdline nor /proc/cmdline could be read', { hint: 'write the command line the UKI should carry (root=…) to /etc/kernel/cmdline' });
  return { ...found, fromSnapshot: false };
}

/** uki.conf where 60-ukify.install looks for it, first found wins. */
export const UKI_CONF_PATHS = ['/etc/kernel/uki.conf', '/run/kernel/uki.conf', '/usr/local/lib/kernel/uki.conf', '/usr/lib/kernel/uki.conf'] as const;

export async function ukiConf(fs: HostFs): Promise<string | null> {
  for (const p of UKI_CONF_PATHS) if (await isFile(fs, p)) return p;
  return null;
}

export interface UkifyInput {
  ukify: string;
  stub: string;
  kernel: string;
  /** In order: microcode first, then the initrd (as 60-ukify.install orders them). */
  initrds: string[];
  cmdline: readonly string[];
  kernelVersion: string;
  output: string;
  config: string | null;
}

/**
 * ukify's command line for what 60-ukify.install sets in ukify's namespace:
 * config, uname, linux, initrds, output and the command line (prefixed with
 * a space, as the plugin does, so an option starting with "@" is not read as
 * a file name). os-release is left to ukify's default (/etc/os-release), as
 * the plugin leaves it; the stub is the one the plugin's ukify finds.
 */
export function ukifyArgv(i: UkifyInput): string[] {
  return [
    i.ukify, 'build',
    ...(i.config ? ['--config', i.config] : []),
    '--linux', i.kernel,
    ...i.initrds.flatMap((f) => ['--initrd', f]),
    '--cmdline', ` ${i.cmdline.join(' ')}`,
    '--uname', i.kernelVersion,
    '--stub', i.stub,
    '--output', i.output,
  ];
}

/** Runs ukify into a temporary name beside the output, then renames: no half-written UKI is left behind. */
export async function runUkify(runner: Runner, input: UkifyInput, opts: { signal?: AbortSignal; env?: Record<string, string>; onLine?: (line: string) => void; logFile: string }): Promise<{ argv: string[]; durationMs: number }> {
  const started = performance.now();
  const tmp = path.join(path.dirname(input.output), `.${path.basename(input.output)}.${process.pid}.tmp`);
  const argv = ukifyArgv({ ...input, output: tmp });
  await mkdir(path.dirname(input.output), { recursive: true });
  try {
    await runner.run(argv, { timeoutMs: 600_000, signal: opts.signal, env: opts.env, onLine: opts.onLine });
    await rename(tmp, input.output);
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof CommandCancelledError) throw new WizardError('the build was cancelled; temporary files were removed');
    if (err instanceof CommandNotFoundError) throw new WizardError(`${input.ukify} could not be run`, { hint: `run \`${commandLine('build', '--format', 'uki')}\` again: its preflight names what ukify lacks` });
    if (err instanceof CommandFailedError) {
      const tail = err.stderr.trim().split('\n').slice(-5).join('\n');
      throw new WizardError(`ukify failed (exit ${err.exitCode_}):\n${tail}`, { hint: `the initrd was built (log: ${opts.logFile}); check ${input.config ? `${input.config} and ` : ''}the kernel image ${input.kernel}` });
    }
    throw err;
  }
  return { argv: ukifyArgv(input), durationMs: performance.now() - started };
}

/** The host's block devices, to resolve root=/resume= specs: the snapshot's lsblk, or lsblk run now. */
export async function storageGraph(runner: Runner, snapshotFiles: Map<string, string> | null): Promise<BlockGraph | null> {
  const text = snapshotFiles ? snapshotFiles.get('lsblk.json') : await runner.run(['lsblk', '--json', '--bytes', '--output-all'], { timeoutMs: 30_000 }).then((r) => r.stdout, () => undefined);
  if (!text) return null;
  const r = parseLsblk(text);
  return r.ok ? r.value : null;
}

export type Microcode = { vendor: string; source: string; cpio: Buffer } | { vendor: string | null; source: null; why: string };

/**
 * This machine's microcode archive, as 50-mkosi.install builds it for the
 * UKI 60-ukify.install then makes. Not for a snapshot: the CPU of the
 * machine that will boot is not recorded, and this one's may differ.
 */
export async function hostMicrocode(fs: HostFs, snapshot: boolean, arch = archOf()): Promise<Microcode> {
  if (snapshot) return { vendor: null, source: null, why: "the snapshot does not record the target's CPU, so no microcode is added (kernel-install on that machine adds its own)" };
  if (!/^(x86_64|i[3-6]86)$/.test(arch)) return { vendor: null, source: null, why: `no early microcode on ${arch}` };
  const cpu = identifyCpu((await fs.read('/proc/cpuinfo').catch(() => null)) ?? '');
  if (!cpu) return { vendor: null, source: null, why: 'the CPU vendor is unknown (/proc/cpuinfo), as for kernel-install: no microcode added' };
  for (const p of microcodeCandidates(cpu)) {
    const data = await readBeneath(fs.root, p, { maxBytes: LIMITS.configFileBytes, follow: 'in-root', what: p }).catch(() => null);
    if (data) return { vendor: cpu.vendor, source: p, cpio: microcodeCpio(cpu.vendor, data) };
  }
  return { vendor: cpu.vendor, source: null, why: `no microcode for this ${cpu.vendor} CPU in /usr/lib/firmware (${microcodeCandidates(cpu).join(', ') || 'none known for this vendor'}), as for kernel-install: none added` };
}
