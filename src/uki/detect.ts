/** The UKI toolchain of the build host: systemd's version, ukify and the stub, read through the runner and the rooted files. */
import type { HostFs } from '../system/files.js';
import type { Runner } from '../system/run.js';
import { UKIFY_PATHS, stubPath, type UkiToolchain } from './generator.js';

/** "systemd 257 (257.13-1~deb13u1)" (kernel-install --version and systemctl --version print the same first line). */
export function parseSystemdVersion(text: string): number | null {
  const m = /^systemd (\d+)\b/m.exec(text);
  return m ? Number(m[1]) : null;
}

export async function detectUkiToolchain(
  runner: Runner,
  fs: HostFs,
  host: { family: string; codename?: string; mkosiMajor: number | null; arch?: string },
): Promise<UkiToolchain> {
  const version = await runner.run(['kernel-install', '--version'], { timeoutMs: 10_000 }).then((r) => parseSystemdVersion(r.stdout), () => null);
  let ukify: string | null = null;
  for (const p of UKIFY_PATHS) if (!ukify && (await fs.stat(p).catch(() => null))?.isFile()) ukify = p;
  const stub = stubPath(host.arch);
  const hasStub = (await fs.stat(stub).catch(() => null))?.isFile() ?? false;
  return { systemd: version, ukify, stub: hasStub ? stub : null, mkosiMajor: host.mkosiMajor, family: host.family, codename: host.codename, arch: host.arch };
}
