/**
 * The bench's side of each toolchain: run a command on the host or in a chroot with its wall time, install
 * initramfs-tools or dracut (they conflict: one replaces the other) into a bench chroot, and measure an image
 * file (compressed size, unpacked size from the cpio reader the product uses).
 */
import { execFile } from 'node:child_process';
import { appendFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { readInitrd } from '../../src/image/cpio.js';
import { inChroot, type ChrootRun } from '../support/toolchain.js';

const exec = promisify(execFile);

export interface Timed extends ChrootRun {
  seconds: number;
}

/** Runs argv on the host ('/') or inside the chroot; the time is measured around the command alone (inside the chroot). */
export async function run(root: string, argv: string[], env: Record<string, string> = {}): Promise<Timed> {
  const wrapped = ['sh', '-c', 'a=$(date +%s%N); "$@"; rc=$?; b=$(date +%s%N); echo "IW_BENCH_NS $((b - a))" >&2; exit $rc', 'sh', ...argv];
  let r: ChrootRun;
  if (root === '/') {
    r = await exec(wrapped[0]!, wrapped.slice(1), { maxBuffer: 256 << 20, env: { ...process.env, ...env } }).then(
      (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
      (e: { code?: number | string; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${typeof e.code === 'number' ? '' : String(e)}` }),
    );
  } else {
    // Setting up the chroot's mounts has failed once in a while on a busy machine ("not mount point" right
    // after the rbind): one retry, after inChroot's own clean-up of what it mounted.
    r = await inChroot(root, wrapped, { env }).catch(async (e: Error) => {
      console.log(`(retrying in ${root}: ${e.message.split('\n')[0]})`);
      await new Promise((res) => setTimeout(res, 3000));
      return inChroot(root, wrapped, { env });
    });
  }
  const m = /IW_BENCH_NS (\d+)/.exec(r.stderr);
  return { ...r, stderr: r.stderr.replace(/IW_BENCH_NS \d+\n?/, ''), seconds: m ? Number(m[1]) / 1e9 : NaN };
}

export type Generator = 'initramfs-tools' | 'dracut';

/**
 * What each generator is installed with: the fixture's storage stack (LUKS2 on LVM, hibernation), so their
 * images carry cryptsetup and lvm2 as the mkosi-initrd image does.
 */
export const GENERATOR_PACKAGES: Record<Generator, string[]> = {
  'initramfs-tools': ['initramfs-tools', 'cryptsetup-initramfs', 'lvm2'],
  dracut: ['dracut', 'cryptsetup', 'lvm2'],
};

export async function installed(root: string, pkg: string): Promise<string | null> {
  const r = await run(root, ['dpkg-query', '-W', '-f', '${Status} ${Version}', pkg]);
  const m = /install ok installed (\S+)/.exec(r.stdout);
  return m ? m[1]! : null;
}

/**
 * Installs the generator (apt replaces the other one). INITRD=No keeps the kernel hooks from building
 * images; the lists are refreshed only when the install fails with the ones the chroot has.
 */
export async function ensureGenerator(root: string, gen: Generator): Promise<string> {
  const env = { INITRD: 'No', DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['apt-get', '-y', '-o', 'Acquire::Check-Valid-Until=false', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', 'install', ...GENERATOR_PACKAGES[gen]];
  if (!(await installed(root, gen)) || !(await Promise.all(GENERATOR_PACKAGES[gen].map((p) => installed(root, p)))).every(Boolean)) {
    let r = await run(root, install, env);
    if (r.code !== 0) {
      await run(root, ['apt-get', '-o', 'Acquire::Check-Valid-Until=false', 'update'], env);
      r = await run(root, install, env);
    }
    if (r.code !== 0) throw new Error(`apt-get install ${gen} in ${root} failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
  if (gen === 'initramfs-tools') {
    // cryptsetup-initramfs adds cryptsetup only for devices it finds in crypttab or under /; the build
    // machine's root is neither, the fixture's is: include it as on that machine.
    const hook = path.join(root, 'etc/cryptsetup-initramfs/conf-hook');
    const text = await readFile(hook, 'utf8').catch(() => '');
    if (!/^CRYPTSETUP=y$/m.test(text)) await appendFile(hook, '\n# initrd-wizard bench: the fixture has a LUKS2 root\nCRYPTSETUP=y\n');
  }
  const version = await installed(root, gen);
  if (!version) throw new Error(`${gen} is not installed in ${root} after apt-get install`);
  return version;
}

export interface Measured {
  compressed: number;
  unpacked: number;
  compression: string;
  files: number;
}

export async function measure(file: string): Promise<Measured> {
  const raw = await readFile(file);
  const img = await readInitrd(raw, file);
  return {
    compressed: (await stat(file)).size,
    unpacked: img.segments.reduce((n, s) => n + s.unpackedSize, 0),
    compression: img.segments.map((s) => s.compression).join('+'),
    files: img.segments.reduce((n, s) => n + s.files, 0),
  };
}
