import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { ExitCode } from '../errors.js';
import { buildPreflight, type Preflight } from '../mkosi/build.js';
import { analyzeDracutPlugin, readInstallConf } from '../install/dracut.js';
import { OTHER_INITRD_PLUGINS } from '../install/plan.js';
import { CommandNotFoundError } from '../system/run.js';
import type { CommandResult } from './result.js';
import { mkosiInfo, pipeline, type PipelineFlags, type PipelineState } from '../service/pipeline.js';
import { findBuiltinDir, matchContextFor, readEffectiveContent } from '../mkosi/builtin.js';
import type { MkosiInfo } from '../mkosi/version.js';
import { findBoot, ukiSigning } from '../install/uki.js';
import { detectUkiToolchain } from '../uki/detect.js';
import { pickUkiGenerator } from '../uki/generator.js';

const MiB = 1024 * 1024;

/** Storage whose package mkosi < 26 installs from its base list, and 26 only through a profile kernel-install never enables. */
const MOVED_TO_PROFILES: Array<{ feature: string; pkg: string; profile: string }> = [
  { feature: 'lvm', pkg: 'lvm2', profile: 'lvm' },
  { feature: 'pkcs11', pkg: 'p11-kit', profile: 'pkcs11' },
];

/**
 * The mkosi 26 trap: an LVM root that boots today because 24.x/25.x's base
 * list has lvm2 loses it from the initrd after an mkosi upgrade, unless some
 * drop-in names the package. Checked against the configuration as installed.
 */
async function upgradeTrap(state: PipelineState, mk: MkosiInfo | null, generator: string): Promise<Preflight[]> {
  if (!mk || mk.major >= 26) return [];
  const needed = MOVED_TO_PROFILES.filter((m) => state.report.features.includes(m.feature as never));
  if (!needed.length) return [];
  const builtinDir = await findBuiltinDir(state.fs);
  if (!builtinDir) return [];
  const content = await readEffectiveContent({ fs: state.fs, builtinDir, mkosiMajor: mk.major, ctx: matchContextFor(state.distro) });
  const usesMkosi = /^mkosi(-initrd)?$/.test(generator);
  return needed.map(({ pkg, profile }) => {
    const fromBase = content.packages.some((p) => p.spec === pkg && p.source.startsWith(builtinDir));
    const named = content.packages.find((p) => p.spec === pkg && !p.source.startsWith(builtinDir));
    if (named) return { id: `mkosi-26-${pkg}`, ok: true, detail: `${pkg} is named in ${named.source}: an upgrade to mkosi 26 (which moved it into the "${profile}" profile) keeps it in the initrd` };
    if (!fromBase) return { id: `mkosi-26-${pkg}`, ok: true, detail: `${pkg} is not in mkosi ${mk.version}'s base list either: \`install\` names it in its drop-in` };
    return usesMkosi
      ? { id: `mkosi-26-${pkg}`, ok: false, detail: `this host boots through mkosi-initrd and its ${profile === 'lvm' ? 'LVM' : profile} storage gets ${pkg} only from mkosi ${mk.version}'s base list; mkosi 26 moved it into the "${profile}" profile, which kernel-install never enables, so after an mkosi upgrade the initrd will lack ${pkg}`, fix: `run \`initrd-wizard install\` (its drop-in names ${pkg}), or add Packages=${pkg} to a file in /etc/mkosi-initrd/mkosi.conf.d/, before upgrading mkosi` }
      : { id: `mkosi-26-${pkg}`, ok: true, detail: `mkosi ${mk.version}'s base list has ${pkg}, mkosi 26's does not: \`install\` names it in its drop-in, so an mkosi upgrade keeps it` };
  });
}

/** layout=uki: can kernel-install build the UKI here, will it be signed, does $BOOT have room for two. */
async function ukiItems(state: PipelineState, mk: MkosiInfo | null, conf: Map<string, string>): Promise<Preflight[]> {
  const { fs, runner } = state;
  const items: Preflight[] = [];
  const configured = conf.get('uki_generator');
  const toolchain = await detectUkiToolchain(runner, fs, { rooted: fs.root !== '/', mkosiMajor: mk?.major ?? null, family: state.distro.family, codename: state.distro.codename });
  const systemdFrom = toolchain.systemdFrom;
  const choice = pickUkiGenerator(toolchain, configured === 'mkosi' ? 'mkosi' : undefined);
  if (choice.ok) items.push({ id: 'uki-generator', ok: true, detail: `uki_generator=${configured ?? 'unset'}: ${choice.why} (systemd from ${systemdFrom})` });
  else choice.problems.forEach((p, i) => items.push({ id: `uki-${i + 1}`, ok: false, detail: p.detail, fix: p.fix }));
  if (!configured && toolchain.systemd !== null && toolchain.systemd < 257)
    items.push({ id: 'uki-generator-unset', ok: false, detail: `layout=uki without uki_generator: kernel-install of systemd ${toolchain.systemd} builds no UKI (an unset generator means ukify only from 257)`, fix: 'add uki_generator=ukify to /etc/kernel/install.conf (initrd-wizard install --layout uki does)' });
  const signed = await ukiSigning(fs);
  items.push(
    signed.problems.length
      ? { id: 'uki-signing', ok: false, detail: signed.problems.join('; '), fix: 'set SecureBootPrivateKey and SecureBootCertificate in the [UKI] section of uki.conf to files that exist' }
      : { id: 'uki-signing', ok: true, detail: signed.signing ? `ukify signs the UKI with ${signed.signing.cert} (${signed.signing.conf})` : 'the UKI is not signed: no key in uki.conf' },
  );
  const boot = await findBoot(fs);
  const f = await statfs(fs.resolve(boot.dir)).catch(() => null);
  const free = f ? f.bavail * f.bsize : null;
  items.push(
    free !== null && free >= 150 * MiB
      ? { id: 'esp-space', ok: true, detail: `${Math.round(free / MiB)} MiB free on $BOOT ${boot.dir} (${boot.why}; a UKI takes 50–100 MiB, the kept one as much again)` }
      : { id: 'esp-space', ok: false, detail: free === null ? `$BOOT ${boot.dir} does not exist` : `only ${Math.round(free / MiB)} MiB free on $BOOT ${boot.dir}: a UKI takes 50–100 MiB, the new one and the kept one twice that`, fix: 'remove old kernels from $BOOT (kernel-install remove KVER) or use layout=bls' },
  );
  return items;
}

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
      // As build: a --snapshot build keeps the snapshot machine's modules, not this machine's /proc/modules.
      liveModules: !state.snapshotFiles,
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
  const generator = conf.get('initrd_generator') ?? 'unset (kernel-install runs whichever initrd plugins are installed)';
  items.push({ id: 'install-conf', ok: true, detail: `${etcConf !== null ? '/etc/kernel/install.conf' : usrConf !== null ? '/usr/lib/kernel/install.conf' : 'no install.conf'}: layout=${layout}, initrd_generator=${generator}` });
  for (const name of OTHER_INITRD_PLUGINS) {
    const text = await fs.read(`/usr/lib/kernel/install.d/${name}`).catch(() => null);
    if (text === null) continue;
    const masked = await fs.readlink(`/etc/kernel/install.d/${name}`).catch(() => null);
    if (masked === '/dev/null') {
      items.push({ id: `plugin-${name}`, ok: true, detail: `${name} is masked (/etc/kernel/install.d/${name} → /dev/null)` });
      continue;
    }
    const a = analyzeDracutPlugin(`/usr/lib/kernel/install.d/${name}`, text);
    items.push({ id: `plugin-${name}`, ok: true, detail: `${name}: ${a.reason}` });
  }
  if (conf.get('layout') === 'uki') items.push(...(await ukiItems(state, mk, conf)));
  items.push(...(await upgradeTrap(state, mk, generator)));
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
