/** Builds real rpm-md repositories for tests: real RPMs from rpmbuild, metadata from createrepo_c. */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestRpm {
  name: string;
  version?: string;
  release?: string;
  epoch?: number;
  arch?: 'noarch' | 'x86_64' | 'i686' | 'aarch64';
  requires?: string[];
  provides?: string[];
  recommends?: string[];
  obsoletes?: string[];
  conflicts?: string[];
  /** Files the package owns (created empty). */
  files?: string[];
  /** Installed size in bytes, made real with a file of that size. */
  size?: number;
}

function spec(p: TestRpm): string {
  const files = p.files ?? [];
  const lines = [
    `Name: ${p.name}`,
    `Version: ${p.version ?? '1.0'}`,
    `Release: ${p.release ?? '1'}`,
    ...(p.epoch ? [`Epoch: ${p.epoch}`] : []),
    'Summary: initrd-wizard test package',
    'License: MIT',
    'AutoReqProv: no',
    ...(p.arch === 'noarch' || !p.arch ? ['BuildArch: noarch'] : []),
    ...(p.requires ?? []).map((r) => `Requires: ${r}`),
    ...(p.provides ?? []).map((r) => `Provides: ${r}`),
    ...(p.recommends ?? []).map((r) => `Recommends: ${r}`),
    ...(p.obsoletes ?? []).map((r) => `Obsoletes: ${r}`),
    ...(p.conflicts ?? []).map((r) => `Conflicts: ${r}`),
    '',
    '%description',
    'Test package.',
    '',
    '%install',
    ...files.map((f) => `mkdir -p %{buildroot}${path.dirname(f)} && touch %{buildroot}${f}`),
    ...(p.size ? [`mkdir -p %{buildroot}/usr/share/iwtest && head -c ${p.size} /dev/zero > %{buildroot}/usr/share/iwtest/${p.name}.bin`] : []),
    '',
    '%files',
    ...files,
    ...(p.size ? [`/usr/share/iwtest/${p.name}.bin`] : []),
    '',
  ];
  return lines.join('\n');
}

export interface BuildRpmRepoOptions {
  /**
   * Build inside this chroot with its own rpmbuild and createrepo_c (e.g. sid's rpm 6.1): `dir` is
   * then the repository's path as seen inside the chroot, and the files land under ROOT/dir.
   */
  root?: string;
}

/** Builds every package (three at a time) and runs createrepo_c over them. */
export async function buildRpmRepo(dir: string, pkgs: TestRpm[], options: BuildRpmRepoOptions = {}): Promise<void> {
  const root = options.root;
  // Paths as the tools see them (`dir` inside the chroot) and as this process writes them.
  const host = (p: string) => (root ? path.join(root, p) : p);
  const tool = (cmd: string, args: string[]) =>
    root
      ? run('chroot', [root, 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'LC_ALL=C', 'HOME=/root', cmd, ...args])
      : run(cmd, args, { env: { ...process.env, LC_ALL: 'C' } });
  const top = path.join(dir, '.rpmbuild');
  // rpmbuild creates its tree on demand, and parallel builds race on that mkdir ("BUILDROOT: File exists"):
  // the tree exists before the first one starts.
  for (const d of ['SPECS', 'SOURCES', 'BUILD', 'BUILDROOT', 'RPMS', 'SRPMS']) await mkdir(host(path.join(top, d)), { recursive: true });
  const queue = [...pkgs];
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      const id = `${p.name}-${p.version ?? '1.0'}-${p.arch ?? 'noarch'}`;
      const specFile = path.join(top, 'SPECS', `${id}.spec`);
      await writeFile(host(specFile), spec(p));
      // A build directory per spec: rpm >= 4.20 builds in BUILD/NAME-VERSION-build, which two arches of
      // one package would share (and remove under each other) in parallel builds.
      const args = ['--define', `_topdir ${top}`, '--define', `_builddir ${path.join(top, 'BUILD', id)}`, '--define', '_build_id_links none', '--quiet', '-bb', specFile];
      if (p.arch && p.arch !== 'noarch') args.unshift('--target', p.arch);
      await tool('rpmbuild', args);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  const rpmsDir = host(path.join(top, 'RPMS'));
  for (const arch of await readdir(rpmsDir)) {
    for (const f of await readdir(path.join(rpmsDir, arch))) await rename(path.join(rpmsDir, arch, f), path.join(host(dir), f));
  }
  await tool('createrepo_c', ['--quiet', '--excludes', '.rpmbuild/*', dir]);
}
