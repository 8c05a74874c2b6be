/**
 * The UKI toolchain of the machine that builds: systemd's version, ukify
 * (and whether it runs) and the stub, read through the runner and the rooted
 * files. One place, for build, install, doctor and the wizard.
 */
import type { HostFs } from '../system/files.js';
import { CommandFailedError, type Runner } from '../system/run.js';
import { stubPath, UKIFY_PATHS, type UkiToolchain } from './generator.js';

/** systemd's version as `systemctl --version` (or kernel-install's) prints it: "systemd 257 (257.13-1~deb13u1)". */
export function parseSystemdVersion(text: string): number | null {
  const m = /^systemd (\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

async function exists(fs: HostFs, p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isFile() ?? false;
}

/** The versions and files that decide whether and how a UKI can be built here. */
export interface DetectedUkiToolchain extends UkiToolchain {
  systemdVersion: string | null;
  /** Why the installed ukify does not run (`ukify --version` failed), e.g. its Python modules are missing. */
  ukifyBroken: string | null;
}

export async function detectUkiToolchain(runner: Runner, fs: HostFs, host: { mkosiMajor: number | null; family: string; codename?: string; arch?: string }): Promise<DetectedUkiToolchain> {
  const { mkosiMajor, family, codename } = host;
  const arch = host.arch ?? archOf();
  let systemdVersion: string | null = null;
  for (const argv of [['systemctl', '--version'], ['kernel-install', '--version']]) {
    const out = await runner.run(argv, { timeoutMs: 30_000 }).then((r) => r.stdout, () => null);
    if (out && parseSystemdVersion(out) !== null) {
      systemdVersion = out.split('\n')[0]!.trim();
      break;
    }
  }
  let ukify: string | null = null;
  for (const p of UKIFY_PATHS) if (!ukify && (await exists(fs, p))) ukify = p;
  const stub = (await exists(fs, stubPath(arch))) ? stubPath(arch) : null;
  // Debian 12's systemd 254 from backports ships /usr/lib/systemd/ukify without python3-pefile, which it imports first thing.
  let ukifyBroken: string | null = null;
  if (ukify) {
    await runner.run([fs.resolve(ukify), '--version'], { timeoutMs: 60_000 }).catch((err: unknown) => {
      const stderr = err instanceof CommandFailedError ? err.stderr.trim().split('\n').pop() ?? '' : '';
      ukifyBroken = stderr || (err instanceof Error ? err.message : String(err));
    });
  }
  return { systemd: systemdVersion ? parseSystemdVersion(systemdVersion) : null, systemdVersion, ukify, ukifyBroken, stub, mkosiMajor, family, codename, arch };
}

export function archOf(): string {
  return ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', riscv64: 'riscv64', loong64: 'loongarch64', arm: 'armv7l' } as Record<string, string>)[process.arch] ?? process.arch;
}

