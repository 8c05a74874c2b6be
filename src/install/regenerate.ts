/** kernel-install add for the installed configuration, with what boots today kept as a fallback (boot entries, previous initrd or UKI). */
import path from 'node:path';
import { ExitCode, WizardError } from '../errors.js';
import type { FileChange } from './plan.js';
import type { PathState, Root } from './fsops.js';
import type { Transaction } from './transaction.js';
import { kernelInstallEnv, parseInspect, type Inspected } from './kernelinstall.js';
import { CommandFailedError, type Runner } from '../system/run.js';
import { hostFs } from '../system/files.js';
import { kernelImage } from '../system/kernel.js';
import { packageRoot } from '../paths.js';

/** kernel-install's own answer for the entry token and $BOOT; null when it gives none (its add still runs). */
async function inspect(runner: Runner, wrap: (argv: string[]) => string[], env: Record<string, string>, kver: string, kernel: string): Promise<Inspected | null> {
  for (const extra of [['--json=short'], []]) {
    const r = await runner.run(wrap(['kernel-install', 'inspect', ...extra, kver, kernel]), { env, timeoutMs: 60_000 }).catch(() => null);
    const parsed = r ? parseInspect(r.stdout) : null;
    if (parsed) return parsed;
  }
  return null;
}

/**
 * kernel-install add for the kernel, keeping what boots today as the fallback.
 * bls: the previous initrd and an entry for it. uki: a BLS entry stays as it
 * is (kernel-install with layout=uki neither writes nor removes one), a UKI
 * already there for this kernel is copied to -previous.efi; the new UKI is
 * journaled, so revert removes it (or puts the old one back) and $BOOT is as
 * it was before the install.
 */
export async function regenerate(root: Root, tx: Transaction, kver: string, runner: Runner, lines: string[], extraEnv?: Record<string, string>, layout: 'bls' | 'uki' = 'bls', bootDir = '/boot') {
  // kernel-install and mkosi-initrd follow links: hand them no directory of the root that leads out of it.
  const dirs = layout === 'uki' ? ['/etc', '/etc/kernel', '/etc/mkosi-initrd', bootDir, `${bootDir}/EFI`, `${bootDir}/EFI/Linux`] : ['/etc', '/etc/kernel', '/etc/mkosi-initrd', '/boot', '/boot/loader', '/boot/loader/entries'];
  for (const d of dirs) {
    const st = await root.state(d);
    if (st.type === 'symlink' || st.type === 'other' || st.type === 'file') throw new WizardError(`${root.show(d)} is not a real directory: not running kernel-install on this root`, { exit: ExitCode.badInput, hint: 'replace it with a real directory, then run again' });
  }
  const kernel = await kernelImage(hostFs(root.dir), kver);
  if (!kernel) throw new WizardError(`no kernel image for ${kver} under ${root.dir}`, { hint: 'pass --kernel-version for an installed kernel' });
  const env = { ...(await kernelInstallEnv(root, layout === 'uki' ? bootDir : '/boot')), ...(extraEnv ?? {}) };
  // For another root, kernel-install and the mkosi-initrd it calls must read that root's /etc.
  const wrap = (argv: string[]) => (root.dir === '/' ? argv : ['unshare', '--mount', '--propagation', 'private', '--', path.join(packageRoot(), 'libexec', 'with-root-etc.sh'), root.at('/etc'), ...argv]);
  const seen = await inspect(runner, wrap, env, kver, kernel);
  const machineId = ((await root.readText('/etc/machine-id')) ?? '').trim();
  const token = seen?.entryToken ?? (((await root.readText('/etc/kernel/entry-token')) ?? '').trim() || machineId);
  // inspect reports $BOOT as a path on this system: back to a path inside the root.
  const inRoot = (p: string) => (root.dir === '/' ? p : p === root.dir ? '/' : p.startsWith(root.dir + '/') ? p.slice(root.dir.length) : null);
  const boot = (seen && inRoot(seen.bootRoot)) ?? (layout === 'uki' ? bootDir : '/boot');
  if (!/^[A-Za-z0-9._-]+$/.test(token)) throw new WizardError(`kernel-install's entry token "${token}" is not a plain name: not regenerating`, { hint: 'set one in /etc/kernel/entry-token' });

  let uki: { target: string; before: PathState; createdDirs: string[] } | null = null;
  if (layout === 'uki') {
    const linux = `${boot}/EFI/Linux`;
    const target = `${linux}/${token}-${kver}.efi`;
    const before = await root.state(target);
    const createdDirs: string[] = [];
    for (const d of [`${boot}/EFI`, linux]) if ((await root.state(d)).type === 'absent') createdDirs.push(d);
    if (before.type === 'file') {
      const keep = `${linux}/${token}-${kver}-previous.efi`;
      await tx.apply({ changes: [{ path: keep, kind: 'file', content: before.content, mode: 0o644, why: 'the UKI before mkosi-initrd, kept as a fallback' }] });
      lines.push(`Kept the previous UKI as ${keep}.`);
    }
    const entries = (await root.list(`${boot}/loader/entries`)).filter((e) => e.endsWith(`-${kver}.conf`));
    if (entries.length) lines.push(`The boot loader entr${entries.length > 1 ? 'ies' : 'y'} ${entries.map((e) => `${boot}/loader/entries/${e}`).join(', ')} stay${entries.length > 1 ? '' : 's'} as the fallback.`);
    uki = { target, before, createdDirs };
  } else {
    const entryDir = `/boot/${token}/${kver}`;
    const before = await root.state(`${entryDir}/initrd`);
    const entry = `/boot/loader/entries/${token}-${kver}.conf`;
    const entryText = await root.readText(entry);
    if (before.type === 'file' && entryText) {
      const fallback: FileChange[] = [
        { path: `${entryDir}/initrd.previous`, kind: 'file', content: before.content, mode: 0o644, why: 'the initrd before mkosi-initrd, kept as a fallback' },
        {
          path: `/boot/loader/entries/${token}-${kver}-previous-initrd.conf`,
          kind: 'file',
          content: entryText.replace(/^title\s+(.*)$/m, 'title $1 (previous initrd)').replace(/^(initrd\s+\S*\/)initrd\s*$/m, '$1initrd.previous'),
          mode: 0o644,
          why: 'a boot entry that still uses the previous initrd',
        },
      ];
      await tx.apply({ changes: fallback });
      lines.push(`Kept the previous initrd as ${entryDir}/initrd.previous with its own boot entry.`);
    }
  }
  const argv = ['kernel-install', '--verbose', 'add', kver, kernel];
  const r = await runner.run(wrap(argv), { env, timeoutMs: 3_600_000 }).catch((err: unknown) => {
    throw new WizardError(`kernel-install add ${kver} failed: ${err instanceof CommandFailedError ? err.stderr.trim().split('\n').slice(-4).join(' ') : String(err)}`, { hint: `the previous ${layout === 'uki' ? 'boot entry or UKI' : 'initrd and its entry'} ${layout === 'uki' ? 'is' : 'are'} still in place; see \`initrd-wizard doctor\`` });
  });
  if (uki) {
    const now = await root.state(uki.target);
    if (now.type !== 'file') throw new WizardError(`kernel-install add ${kver} succeeded but put no UKI at ${root.show(uki.target)}`, { hint: 'run `kernel-install --verbose add` yourself and read which plugin skipped it (60-ukify.install needs layout=uki and the stub)' });
    await tx.adopt([{ path: uki.target, before: uki.before }], uki.createdDirs);
    lines.push(`Installed the UKI ${uki.target} with kernel-install; revert removes it${uki.before.type === 'file' ? ' and puts the previous one back' : ''}.`);
  } else lines.push(`Regenerated the initrd for ${kver} with kernel-install.`);
  return { kernelVersion: kver, entryToken: token, boot, ...(uki ? { uki: uki.target } : {}), output: r.stdout.slice(-2000) };
}
