import { stat, statfs } from 'node:fs/promises';
import os from 'node:os';
import { ExitCode } from '../errors.js';
import { buildPreflight, type Preflight } from '../mkosi/build.js';
import { analyzeDracutPlugin, readInstallConf } from '../install/dracut.js';
import { CommandNotFoundError } from '../system/run.js';
import type { CommandResult } from './context.js';
import { mkosiInfo, pipeline, type PipelineFlags } from './pipeline.js';

const MiB = 1024 * 1024;

export async function doctorCommand(flags: PipelineFlags): Promise<CommandResult> {
  const state = await pipeline(flags);
  const { fs, runner } = state;
  const items: Preflight[] = [];
  const mk = await mkosiInfo(state);
  items.push(
    ...(await buildPreflight({
      fs,
      kernelVersion: state.kernelVersion,
      uid: process.getuid?.() ?? 0,
      mkosiVersion: mk?.version ?? null,
      mkosiMajor: mk?.major ?? 0,
      hasInitrd: mk?.hasInitrd ?? false,
      family: state.distro.family,
    })),
  );
  items.push(
    mk?.kernelInstallPlugin
      ? { id: 'mkosi-plugin', ok: true, detail: `kernel-install plugin ${mk.kernelInstallPlugin}` }
      : { id: 'mkosi-plugin', ok: true, detail: 'mkosi ships no kernel-install plugin here: `install` adds initrd-wizard\'s own /etc/kernel/install.d/50-mkosi-initrd.install' },
  );
  try {
    const v = (await runner.run(['kernel-install', '--version'], { timeoutMs: 30_000 })).stdout.split('\n')[0]?.trim() ?? '';
    items.push({ id: 'kernel-install', ok: true, detail: v || 'kernel-install present' });
  } catch (err) {
    items.push({ id: 'kernel-install', ok: false, detail: err instanceof CommandNotFoundError ? 'kernel-install is not installed' : `kernel-install --version failed`, fix: 'install systemd\'s kernel-install (Debian: systemd; Fedora: systemd-udev)' });
  }
  const etcConf = await fs.read('/etc/kernel/install.conf').catch(() => null);
  const usrConf = await fs.read('/usr/lib/kernel/install.conf').catch(() => null);
  const conf = readInstallConf(etcConf ?? usrConf ?? '');
  const layout = conf.get('layout') ?? 'bls (default)';
  const generator = conf.get('initrd_generator') ?? 'unset (dracut or the distribution default)';
  items.push({ id: 'install-conf', ok: true, detail: `${etcConf !== null ? '/etc/kernel/install.conf' : usrConf !== null ? '/usr/lib/kernel/install.conf' : 'no install.conf'}: layout=${layout}, initrd_generator=${generator}` });
  for (const name of ['50-dracut.install', '51-dracut-rescue.install', '55-initrd.install']) {
    const text = await fs.read(`/usr/lib/kernel/install.d/${name}`).catch(() => null);
    if (text === null) continue;
    const masked = await fs.readlink(`/etc/kernel/install.d/${name}`).catch(() => null);
    if (masked === '/dev/null') {
      items.push({ id: `dracut-${name}`, ok: true, detail: `${name} is masked (/etc/kernel/install.d/${name} → /dev/null)` });
      continue;
    }
    const a = analyzeDracutPlugin(`/usr/lib/kernel/install.d/${name}`, text);
    items.push({ id: `dracut-${name}`, ok: true, detail: `${name}: ${a.reason}` });
  }
  if (conf.get('layout') === 'uki') {
    let esp: { path: string; free: number } | null = null;
    for (const p of ['/efi', '/boot/efi', '/boot']) {
      const s = await fs.stat(`${p}/EFI`).catch(() => null);
      if (s?.isDirectory()) {
        const f = await statfs(fs.resolve(p)).catch(() => null);
        esp = { path: p, free: f ? f.bavail * f.bsize : 0 };
        break;
      }
    }
    items.push(
      esp && esp.free >= 150 * MiB
        ? { id: 'esp-space', ok: true, detail: `${Math.round(esp.free / MiB)} MiB free on the ESP ${esp.path} (a UKI takes 50–100 MiB)` }
        : { id: 'esp-space', ok: false, detail: esp ? `only ${Math.round(esp.free / MiB)} MiB free on the ESP ${esp.path}: a UKI takes 50–100 MiB, two kernels twice that` : 'no ESP found under /efi, /boot/efi or /boot', fix: 'remove old kernels from the ESP or use layout=bls' },
    );
  }
  const unsupported = state.report.unsupported;
  items.push(
    unsupported.length
      ? { id: 'storage', ok: false, detail: `unsupported storage: ${unsupported.map((u) => `${u.id} (${u.device})`).join(', ')}`, fix: unsupported[0]!.advice }
      : { id: 'storage', ok: true, detail: `storage supported: ${state.report.features.join(', ') || 'plain'}` },
  );
  const failed = items.filter((i) => !i.ok);
  return {
    json: { kernelVersion: state.kernelVersion, host: os.hostname(), items, ok: failed.length === 0 },
    text: [
      `initrd-wizard doctor — kernel ${state.kernelVersion}, ${state.distro.id} ${state.distro.version}`,
      '',
      ...items.map((i) => `${i.ok ? ' ok ' : 'FAIL'}  ${i.id.padEnd(28)} ${i.detail}${i.fix && !i.ok ? `\n      fix: ${i.fix}` : ''}`),
      '',
      failed.length ? `${failed.length} problem${failed.length > 1 ? 's' : ''} to fix before building and installing.` : 'Everything needed to build and install is in place.',
    ].join('\n'),
    exitCode: unsupported.length ? ExitCode.unsupported : failed.length ? ExitCode.failed : ExitCode.ok,
  };
}
