/** Start trees for install/revert tests, and a hash of a whole tree to prove "byte-identical". */
import { createHash } from 'node:crypto';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** `exclude`: top-level names left out (the boot tree belongs to kernel-install, not to install/revert). */
export async function treeHash(dir: string, exclude: string[] = []): Promise<string> {
  const lines: string[] = [];
  const walk = async (rel: string) => {
    if (exclude.includes(rel)) return;
    const full = path.join(dir, rel);
    const st = await lstat(full);
    const meta = `${rel || '.'} mode=${(st.mode & 0o177777).toString(8)} uid=${st.uid} gid=${st.gid}`;
    if (st.isSymbolicLink()) lines.push(`${meta} -> ${await readlink(full)}`);
    else if (st.isDirectory()) {
      lines.push(`${meta} dir`);
      for (const e of (await readdir(full)).sort()) await walk(path.join(rel, e));
    } else lines.push(`${meta} sha256=${createHash('sha256').update(await readFile(full)).digest('hex')}`);
  };
  await walk('');
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Fedora's 50-dracut.install steps aside for another generator (shape of the Fedora plugin). */
export const YIELDING_DRACUT = `#!/usr/bin/bash
COMMAND="\${1:?}"
KERNEL_VERSION="\${2:?}"
if [[ "\${KERNEL_INSTALL_INITRD_GENERATOR:-dracut}" != "dracut" ]]; then
    exit 0
fi
echo "built by dracut" > "$KERNEL_INSTALL_STAGING_AREA/initrd"
`;

/** An older dracut plugin that always builds (upstream before PR 1825 was proposed). */
export const STUBBORN_DRACUT = `#!/usr/bin/bash
COMMAND="\${1:?}"
KERNEL_VERSION="\${2:?}"
[[ "$COMMAND" == add ]] || exit 0
echo "built by dracut" > "$KERNEL_INSTALL_STAGING_AREA/initrd"
`;

export type StartTree = 'no-install-conf' | 'vendor-install-conf' | 'commented-install-conf' | 'yielding-dracut' | 'existing-mask' | 'symlinked-install-conf';

/** A root with the host's real kernel-install plugins, a dracut plugin, and the tree's own twist. */
export async function makeRoot(dir: string, kind: StartTree): Promise<void> {
  // A BLS system: kernel-install picks layout=bls when $BOOT/<entry token> exists.
  for (const d of ['etc/kernel/install.d', 'usr/lib/kernel/install.d', 'boot/loader/entries', 'boot/0123456789abcdef0123456789abcdef', 'var/lib']) await mkdir(path.join(dir, d), { recursive: true });
  await writeFile(path.join(dir, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  await writeFile(path.join(dir, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  for (const p of await readdir('/usr/lib/kernel/install.d').catch(() => [])) {
    if (p.endsWith('.install')) await copyFile(path.join('/usr/lib/kernel/install.d', p), path.join(dir, 'usr/lib/kernel/install.d', p));
  }
  const dracut = path.join(dir, 'usr/lib/kernel/install.d/50-dracut.install');
  await writeFile(dracut, kind === 'yielding-dracut' ? YIELDING_DRACUT : STUBBORN_DRACUT);
  await chmod(dracut, 0o755);
  const conf = path.join(dir, 'etc/kernel/install.conf');
  switch (kind) {
    case 'no-install-conf':
      break;
    case 'vendor-install-conf':
      await writeFile(path.join(dir, 'usr/lib/kernel/install.conf'), '# vendor defaults\nlayout=bls\n');
      break;
    case 'commented-install-conf':
    case 'yielding-dracut':
      await writeFile(conf, '# Local kernel-install settings\nlayout=bls   \n\n# which initrd generator\ninitrd_generator=dracut\n# uki_generator=ukify\nverbose=0\n');
      await chmod(conf, 0o640);
      break;
    case 'existing-mask':
      await writeFile(conf, 'layout=bls\n');
      await symlink('/dev/null', path.join(dir, 'etc/kernel/install.d/50-dracut.install'));
      break;
    case 'symlinked-install-conf':
      await mkdir(path.join(dir, 'srv'), { recursive: true });
      await writeFile(path.join(dir, 'srv/install.conf'), 'layout=bls\n');
      await symlink('/srv/install.conf', conf);
      break;
  }
}
