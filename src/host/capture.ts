/**
 * Captures the live host into a Snapshot: every probe in parallel with its own
 * timeout; a failed probe is recorded in errors.json and never stops the rest.
 */
import os from 'node:os';
import { formatArgv, CommandError, CommandFailedError, CommandNotFoundError, type Runner } from '../system/run.js';
import { hostFs, type HostFs } from '../system/files.js';
import { describeUnknown } from '../errors.js';
import { SNAPSHOT_FORMAT, type ProbeError, type Snapshot } from './snapshot.js';
import { parseLsblk } from './parse/lsblk.js';
import { TOOL_ID } from '../version.js';

const PROBE_TIMEOUT_MS = 10_000;

interface FileProbe {
  file: string;
  paths: string[];
}

interface CommandProbe {
  file: string;
  argv: string[];
  /** Exit codes that still produced usable output. */
  okExitCodes?: number[];
}

const FILE_PROBES: FileProbe[] = [
  { file: 'os-release', paths: ['/etc/os-release', '/usr/lib/os-release'] },
  { file: 'cmdline', paths: ['/proc/cmdline'] },
  { file: 'kernel-cmdline', paths: ['/etc/kernel/cmdline'] },
  { file: 'fstab', paths: ['/etc/fstab'] },
  { file: 'crypttab', paths: ['/etc/crypttab'] },
  { file: 'swaps', paths: ['/proc/swaps'] },
  { file: 'sys-power-resume', paths: ['/sys/power/resume'] },
  { file: 'mdstat', paths: ['/proc/mdstat'] },
  { file: 'mdadm.conf', paths: ['/etc/mdadm.conf', '/etc/mdadm/mdadm.conf'] },
  { file: 'modules', paths: ['/proc/modules'] },
  { file: 'install.conf', paths: ['/etc/kernel/install.conf'] },
  // Not in format 1's list (extra files are allowed): the keymap LUKS passphrases are typed in.
  { file: 'vconsole.conf', paths: ['/etc/vconsole.conf'] },
];

const COMMAND_PROBES: CommandProbe[] = [
  { file: 'lsblk.json', argv: ['lsblk', '--json', '--bytes', '--output-all'] },
  { file: 'findmnt.json', argv: ['findmnt', '--json', '--output-all'] },
  { file: 'mdadm-detail-scan', argv: ['mdadm', '--detail', '--scan'] },
  { file: 'lvm-fullreport.json', argv: ['lvm', 'fullreport', '--reportformat', 'json'] },
  { file: 'dmsetup-table', argv: ['dmsetup', 'table'] },
  { file: 'dmsetup-info', argv: ['dmsetup', 'info', '-c', '--noheadings', '-o', 'name,uuid,major,minor'] },
  { file: 'kernel-install.txt', argv: ['kernel-install', 'inspect'] },
];

export interface CaptureOptions {
  runner: Runner;
  fs?: HostFs;
  /** Effective uid; decides whether to explain what a normal user could not read. */
  uid?: number;
  now?: () => Date;
  probeTimeoutMs?: number;
  /**
   * Only what analysis needs: device-mapper, LVM and md probes run only when
   * lsblk shows such devices, and kernel-install is not asked. `snapshot`
   * captures everything (bug reports want the whole picture); `detect` on a
   * plain laptop then starts two processes instead of seven.
   */
  lean?: boolean;
}

export interface CaptureResult {
  snapshot: Snapshot;
  /** Human sentences about what could not be captured and why. */
  missed: string[];
}

type ProbeOutcome = { file: string; content: string } | { error: ProbeError } | null;

function errorFrom(file: string, argv: string[], err: unknown): ProbeError {
  if (err instanceof CommandNotFoundError) {
    return { probe: file, command: formatArgv(argv), exitCode: null, stderr: `${argv[0]}: not installed` };
  }
  if (err instanceof CommandFailedError) {
    return { probe: file, command: formatArgv(argv), exitCode: err.exitCode_, stderr: err.stderr.trim() };
  }
  if (err instanceof CommandError) {
    return { probe: file, command: formatArgv(argv), exitCode: null, stderr: err.message };
  }
  return { probe: file, command: formatArgv(argv), exitCode: null, stderr: describeUnknown(err) };
}

async function runFileProbe(fs: HostFs, probe: FileProbe): Promise<ProbeOutcome> {
  for (const p of probe.paths) {
    try {
      const content = await fs.read(p);
      if (content !== null) return { file: probe.file, content };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      return { error: { probe: probe.file, command: `read ${p}`, exitCode: null, stderr: `${code || describeUnknown(err)}` } };
    }
  }
  return null; // not present on this host: the probe does not apply
}

async function runCommandProbe(runner: Runner, probe: CommandProbe, timeoutMs: number): Promise<ProbeOutcome> {
  try {
    const r = await runner.run(probe.argv, { timeoutMs, okExitCodes: probe.okExitCodes });
    return { file: probe.file, content: r.stdout };
  } catch (err) {
    return { error: errorFrom(probe.file, probe.argv, err) };
  }
}

/** sysfs facts the analyzer needs per block device, as `key=value` lines. */
async function sysBlockFacts(fs: HostFs, name: string): Promise<string | null> {
  const base = `/sys/class/block/${name}`;
  const lines: string[] = [];
  const devpath = await fs.realpath(base).catch(() => null);
  if (devpath) lines.push(`devpath=${devpath}`);
  const read = async (rel: string) => (await fs.read(`${base}/${rel}`).catch(() => null))?.trim() ?? null;
  const dev = await read('dev');
  if (dev) lines.push(`dev=${dev}`);
  const dmUuid = await read('dm/uuid');
  if (dmUuid !== null) lines.push(`dm_uuid=${dmUuid}`);
  const dmName = await read('dm/name');
  if (dmName !== null) lines.push(`dm_name=${dmName}`);
  const slaves = await fs.list(`${base}/slaves`).catch(() => null);
  if (slaves && slaves.length) lines.push(`slaves=${slaves.sort().join(',')}`);
  // NVMe: the controller's transport tells PCIe from a fabric (tcp, rdma, fc, loop).
  if (/^nvme\d+n\d+$/.test(name)) {
    const transport = (await read('device/transport')) ?? (await read('device/device/transport'));
    if (transport) lines.push(`transport=${transport}`);
  }
  if (devpath && /\/session\d+\//.test(devpath)) lines.push('iscsi_session=1');
  return lines.length ? lines.join('\n') + '\n' : null;
}

async function luksProbes(runner: Runner, lsblkText: string | undefined, timeoutMs: number): Promise<ProbeOutcome[]> {
  if (!lsblkText) return [];
  const parsedLsblk = parseLsblk(lsblkText);
  if (!parsedLsblk.ok) return [];
  const luks = [...parsedLsblk.value.devices.values()].filter((d) => d.fstype === 'crypto_LUKS');
  return Promise.all(
    luks.map(async (d): Promise<ProbeOutcome> => {
      const dev = d.path ?? `/dev/${d.kname}`;
      const v1 = d.fsver === '1';
      const argv = v1 ? ['cryptsetup', 'luksDump', dev] : ['cryptsetup', 'luksDump', '--dump-json-metadata', dev];
      const outcome = await runCommandProbe(runner, { file: `luks/${d.kname}.${v1 ? 'txt' : 'json'}`, argv }, timeoutMs);
      // Without FSVER (older lsblk, no udev) a LUKS1 header refuses the JSON dump: fall back to text.
      if (!v1 && outcome && 'error' in outcome) {
        const text = await runCommandProbe(runner, { file: `luks/${d.kname}.txt`, argv: ['cryptsetup', 'luksDump', dev] }, timeoutMs);
        if (text && 'content' in text && /^Version:\s*1\b/m.test(text.content)) return text;
      }
      return outcome;
    }),
  );
}

export async function captureHost(options: CaptureOptions): Promise<CaptureResult> {
  const fs = options.fs ?? hostFs('/');
  const runner = options.runner;
  // Slow machines (emulated guests) may need longer: INITRD_WIZARD_PROBE_TIMEOUT in milliseconds.
  const envTimeout = Number(process.env.INITRD_WIZARD_PROBE_TIMEOUT);
  const timeoutMs = options.probeTimeoutMs ?? (Number.isFinite(envTimeout) && envTimeout > 0 ? envTimeout : PROBE_TIMEOUT_MS);
  const blockNames = (await fs.list('/sys/class/block').catch(() => null)) ?? [];
  const first = options.lean ? COMMAND_PROBES.filter((p) => p.file === 'lsblk.json' || p.file === 'findmnt.json') : COMMAND_PROBES;
  const outcomes = await Promise.all<ProbeOutcome>([
    ...FILE_PROBES.map((p) => runFileProbe(fs, p)),
    ...first.map((p) => runCommandProbe(runner, p, timeoutMs)),
    ...blockNames.map(async (name): Promise<ProbeOutcome> => {
      const content = await sysBlockFacts(fs, name);
      return content === null ? null : { file: `sys-block/${name}`, content };
    }),
  ]);
  const files = new Map<string, string>();
  const errors: ProbeError[] = [];
  const collect = (o: ProbeOutcome) => {
    if (!o) return;
    if ('error' in o) errors.push(o.error);
    else files.set(o.file, o.content);
  };
  outcomes.forEach(collect);
  if (options.lean) {
    const lsblk = files.get('lsblk.json') ?? '';
    const dm = /"kname":\s*"dm-\d+"|"type":\s*"(crypt|lvm|dm|mpath)"/.test(lsblk) || blockNames.some((b) => /^dm-\d+$/.test(b));
    const lvm = /LVM2_member|"type":\s*"lvm"/.test(lsblk);
    const md = /linux_raid_member|isw_raid_member|ddf_raid_member|"type":\s*"raid\d*"/.test(lsblk) || blockNames.some((b) => /^md\d+/.test(b));
    const wanted = new Set([...(dm ? ['dmsetup-table', 'dmsetup-info'] : []), ...(lvm ? ['lvm-fullreport.json'] : []), ...(md ? ['mdadm-detail-scan'] : [])]);
    (await Promise.all(COMMAND_PROBES.filter((p) => wanted.has(p.file)).map((p) => runCommandProbe(runner, p, timeoutMs)))).forEach(collect);
  }
  (await luksProbes(runner, files.get('lsblk.json'), timeoutMs)).forEach(collect);

  const uid = options.uid ?? process.getuid?.() ?? 0;
  const missed: string[] = [];
  for (const e of errors) {
    if (/not installed/.test(e.stderr)) missed.push(`${e.probe}: ${e.stderr} (fine if this host does not use it)`);
    else if (uid !== 0) missed.push(`${e.probe}: ${e.command} needs root (${e.stderr.split('\n')[0] || 'failed'})`);
    else missed.push(`${e.probe}: ${e.command} failed (${e.stderr.split('\n')[0] || `exit ${e.exitCode}`})`);
  }
  if (uid !== 0) {
    missed.push('captured as a normal user: LUKS headers, LVM and device-mapper details need root; run `sudo initrd-wizard snapshot` for a complete snapshot');
  }
  const now = options.now ?? (() => new Date());
  return {
    snapshot: {
      dir: null,
      meta: {
        format: SNAPSHOT_FORMAT,
        captured: now().toISOString(),
        kernel: os.release(),
        arch: os.machine(),
        capturedBy: TOOL_ID,
      },
      files,
      errors,
      warnings: [],
    },
    missed,
  };
}
