/**
 * The toolchains users run, as chroots on this Debian 12 machine
 * (shared/docs/toolchains.md): bookworm is the host itself; trixie and sid
 * are made once by test/toolchains/make-chroot.sh and reused.
 *
 * `inChroot` runs a command inside with /proc, /sys and /dev mounted, the
 * project bind-mounted at /proj and the host's node on PATH, and undoes the
 * mounts afterwards, so nothing of the chroot leaks into the host's mount
 * table between tests.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers.js';

const exec = promisify(execFile);

export type Suite = 'trixie' | 'sid';

export interface Toolchain {
  name: 'bookworm' | Suite;
  /** '/' for the host itself. */
  root: string;
  mkosi: string;
  systemd: string;
}

/** Makes the chroot unless it is there (a few minutes the first time). */
export async function ensureChroot(suite: Suite, dir = `/var/tmp/tc-${suite}`): Promise<string> {
  const { stdout } = await exec('bash', [path.join(ROOT, 'test/toolchains/make-chroot.sh'), suite, dir], { maxBuffer: 64 << 20, timeout: 1_800_000 });
  return stdout.trim().split('\n').pop()!;
}

const mounted = (root: string) => exec('findmnt', ['-rn', '-o', 'TARGET']).then(({ stdout }) => stdout.split('\n').filter((t) => t === root || t.startsWith(root + '/')));

async function mountAll(root: string, project: string): Promise<void> {
  await mkdir(path.join(root, 'proj'), { recursive: true });
  await mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
  const node = path.join(root, 'usr/local/bin/node');
  if (!(await stat(node).catch(() => null))) await copyFile(process.execPath, node);
  const m = (args: string[]) => exec('mount', args);
  // The chroot's / must be a mount point, as on a real machine: unshare --propagation and mkosi's sandbox need it.
  await m(['--bind', root, root]);
  await m(['--make-private', root]);
  await m(['--bind', project, path.join(root, 'proj')]);
  await m(['-t', 'proc', 'proc', path.join(root, 'proc')]);
  await m(['--rbind', '/sys', path.join(root, 'sys')]);
  await m(['--make-rslave', path.join(root, 'sys')]);
  await m(['--rbind', '/dev', path.join(root, 'dev')]);
  await m(['--make-rslave', path.join(root, 'dev')]);
  await mkdir(path.join(root, 'run'), { recursive: true });
  await m(['-t', 'tmpfs', 'tmpfs', path.join(root, 'run')]);
}

async function unmountAll(root: string): Promise<void> {
  // Deepest first; lazily, so a straggling process cannot keep the host's /dev pinned under the chroot.
  const targets = (await mounted(root)).sort((a, b) => b.length - a.length);
  for (const t of targets) await exec('umount', ['-l', t]).catch(() => undefined);
}

export interface ChrootRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` inside the chroot (cwd /proj) and returns its output; never throws on a non-zero exit. */
export async function inChroot(root: string, argv: string[], opts: { project?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ChrootRun> {
  await unmountAll(root);
  await mountAll(root, opts.project ?? ROOT);
  try {
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', TERM: 'dumb', ...opts.env };
    const r = await exec('chroot', [root, 'env', '-C', '/proj', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], {
      maxBuffer: 256 << 20,
      timeout: opts.timeoutMs ?? 1_800_000,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    }).then(
      (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
      (e: { code?: number | string; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${typeof e.code === 'number' ? '' : String(e)}` }),
    );
    return r;
  } finally {
    await unmountAll(root);
  }
}
