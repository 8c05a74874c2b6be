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
  arch?: 'noarch' | 'x86_64' | 'i686';
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

/** Builds every package (three at a time) and runs createrepo_c over them. */
export async function buildRpmRepo(dir: string, pkgs: TestRpm[]): Promise<void> {
  const top = path.join(dir, '.rpmbuild');
  // rpmbuild creates its tree on demand, and parallel builds race on that mkdir ("BUILDROOT: File exists"):
  // the tree exists before the first one starts.
  for (const d of ['SPECS', 'SOURCES', 'BUILD', 'BUILDROOT', 'RPMS', 'SRPMS']) await mkdir(path.join(top, d), { recursive: true });
  const queue = [...pkgs];
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      const specFile = path.join(top, 'SPECS', `${p.name}-${p.version ?? '1.0'}-${p.arch ?? 'noarch'}.spec`);
      await writeFile(specFile, spec(p));
      const args = ['--define', `_topdir ${top}`, '--define', '_build_id_links none', '--quiet', '-bb', specFile];
      if (p.arch && p.arch !== 'noarch') args.unshift('--target', p.arch);
      await run('rpmbuild', args, { env: { ...process.env, LC_ALL: 'C' } });
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  const rpmsDir = path.join(top, 'RPMS');
  for (const arch of await readdir(rpmsDir)) {
    for (const f of await readdir(path.join(rpmsDir, arch))) await rename(path.join(rpmsDir, arch, f), path.join(dir, f));
  }
  await run('createrepo_c', ['--quiet', '--excludes', '.rpmbuild/*', dir]);
}
