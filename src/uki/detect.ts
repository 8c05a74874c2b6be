/**
 * The UKI toolchain of the machine that builds: systemd's version, ukify
 * (and whether it runs) and the stub, read through the runner and the rooted
 * files. One place, for build, install, doctor and the wizard.
 */
import { isFile, type HostFs } from '../system/files.js';
import { CommandFailedError, type Runner } from '../system/run.js';
import { stubPath, UKIFY_PATHS, ukifyPackage, type UkiToolchain } from './generator.js';

/** systemd's version as `systemctl --version` (or kernel-install's) prints it: "systemd 257 (257.13-1~deb13u1)". */
export function parseSystemdVersion(text: string): number | null {
  const m = /^systemd (\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}


/** The versions and files that decide whether and how a UKI can be built here. */
export interface DetectedUkiToolchain extends UkiToolchain {
  /** systemd's first --version line, or the library that told its version in a root. */
  systemdVersion: string | null;
  /** Where the version was read, in words. */
  systemdFrom: string;
  /** Why the installed ukify does not run (`ukify --version` failed), e.g. its Python modules are missing. */
  ukifyBroken: string | null;
}

/** Where distributions put libsystemd-shared-NNN.so (its name carries systemd's major version). */
const SHARED_LIB_DIRS = ['/usr/lib/systemd', '/usr/lib64/systemd', '/usr/lib/x86_64-linux-gnu/systemd', '/usr/lib/aarch64-linux-gnu/systemd', '/usr/lib/i386-linux-gnu/systemd', '/usr/lib/riscv64-linux-gnu/systemd'];

/**
 * systemd's version as kernel-install will be: in another root, the root's
 * own libsystemd-shared (its plugins and ukify are the root's); else, or when
 * the root has none, what systemctl or kernel-install --version say.
 */
async function detectSystemd(fs: HostFs, runner: Runner, rooted: boolean): Promise<{ major: number | null; line: string | null; from: string }> {
  if (rooted) {
    for (const dir of SHARED_LIB_DIRS) {
      for (const name of (await fs.list(dir).catch(() => null)) ?? []) {
        const m = /^libsystemd-shared-(\d+)(\.\d+)?\.so$/.exec(name);
        if (m) return { major: Number(m[1]), line: `systemd ${m[1]}`, from: `${dir}/${name} in the root` };
      }
    }
  }
  for (const argv of [['systemctl', '--version'], ['kernel-install', '--version']]) {
    const out = await runner.run(argv, { timeoutMs: 30_000 }).then((r) => r.stdout, () => null);
    const major = out ? parseSystemdVersion(out) : null;
    if (major !== null) return { major, line: out!.split('\n')[0]!.trim(), from: `${argv.join(' ')}` };
  }
  return { major: null, line: null, from: 'neither systemctl nor kernel-install answered --version' };
}

/**
 * `rooted`: the files are another root's (install --root, doctor --root):
 * systemd's version comes from the root, and its ukify is not run from here.
 */
export async function detectUkiToolchain(
  runner: Runner,
  fs: HostFs,
  host: { mkosiMajor: number | null; family: string; codename?: string; arch?: string; rooted?: boolean },
): Promise<DetectedUkiToolchain> {
  const { mkosiMajor, family, codename } = host;
  const arch = host.arch ?? archOf();
  const systemd = await detectSystemd(fs, runner, host.rooted ?? false);
  let ukify: string | null = null;
  for (const p of UKIFY_PATHS) if (!ukify && (await isFile(fs, p))) ukify = p;
  const stub = (await isFile(fs, stubPath(arch))) ? stubPath(arch) : null;
  // Debian 12's systemd 254 from backports ships /usr/lib/systemd/ukify, which needs python3-pefile (only recommended).
  let ukifyBroken: string | null = null;
  if (ukify && !host.rooted) {
    await runner.run([fs.resolve(ukify), '--version'], { timeoutMs: 60_000 }).catch((err: unknown) => {
      const stderr = err instanceof CommandFailedError ? err.stderr.trim().split('\n').pop() ?? '' : '';
      ukifyBroken = stderr || (err instanceof Error ? err.message : String(err));
    });
  }
  return { systemd: systemd.major, systemdVersion: systemd.line, systemdFrom: systemd.from, ukify, ukifyBroken, stub, mkosiMajor, family, codename, arch };
}

/** ukify is Python: when it does not start, it is nearly always a module its package only recommends (pefile). */
export function brokenUkifyFix(t: Pick<DetectedUkiToolchain, 'ukifyBroken' | 'family' | 'codename'>): string {
  const module = /No module named '([\w.]+)'/.exec(t.ukifyBroken ?? '')?.[1]?.split('.')[0];
  const pkg = module ? `python3-${module}` : ukifyPackage(t.family, t.codename);
  return t.family === 'debian' ? `apt-get install ${pkg}` : t.family === 'fedora' ? `dnf install ${pkg}` : `install ${pkg} (ukify's Python modules)`;
}

export function archOf(): string {
  return ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', riscv64: 'riscv64', loong64: 'loongarch64', arm: 'armv7l' } as Record<string, string>)[process.arch] ?? process.arch;
}

