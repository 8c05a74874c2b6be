/** Which mkosi is installed, and what that version understands. */
import { CommandNotFoundError, type Runner } from '../system/run.js';
import { WizardError } from '../errors.js';

export interface MkosiInfo {
  version: string;
  major: number;
  minor: number;
  /** mkosi-initrd exists from v24. */
  hasInitrd: boolean;
  /** mkosi ships kernel-install/50-mkosi.install (Debian's 24.3 package does not). */
  kernelInstallPlugin: string | null;
}

export function parseMkosiVersion(out: string): { major: number; minor: number; version: string } | null {
  const m = /mkosi\s+(\d+)(?:\.(\d+))?/.exec(out);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), version: `${m[1]}${m[2] ? `.${m[2]}` : ''}` };
}

const PLUGIN_PATHS = ['/usr/lib/kernel/install.d/50-mkosi.install', '/usr/lib/kernel/install.d/50-mkosi-initrd.install'];

/**
 * `mkosi --version` starts Python (~0.3 s); the wizard asks several times per
 * session. One answer per runner and PATH for the life of the process.
 */
const versionRuns = new WeakMap<Runner, Map<string, Promise<string | null>>>();

function mkosiVersionOutput(runner: Runner): Promise<string | null> {
  let byPath = versionRuns.get(runner);
  if (!byPath) versionRuns.set(runner, (byPath = new Map()));
  const key = process.env.PATH ?? '';
  let run = byPath.get(key);
  if (!run) {
    run = runner.run(['mkosi', '--version'], { timeoutMs: 30_000 }).then(
      (r) => r.stdout,
      (err: unknown) => {
        byPath!.delete(key);
        if (err instanceof CommandNotFoundError) return null;
        throw err;
      },
    );
    byPath.set(key, run);
  }
  return run;
}

export async function detectMkosi(runner: Runner, exists: (p: string) => Promise<boolean>): Promise<MkosiInfo | null> {
  const out = await mkosiVersionOutput(runner);
  if (out === null) return null;
  const v = parseMkosiVersion(out);
  if (!v) throw new WizardError(`cannot read the mkosi version from "${out.trim().slice(0, 80)}"`);
  let plugin: string | null = null;
  for (const p of PLUGIN_PATHS) if (await exists(p)) plugin = p;
  return { ...v, hasInitrd: v.major >= 24 && (await exists('/usr/bin/mkosi-initrd')), kernelInstallPlugin: plugin };
}

/** mkosi that can build an initrd from packages: 24 or newer, with mkosi-initrd. */
export function mkosiUsable(mk: MkosiInfo | null): mk is MkosiInfo & { hasInitrd: true } {
  return !!mk && mk.major >= 24 && mk.hasInitrd;
}

/** The "needs mkosi >= 24" message, with how to get it on this distribution. */
export function mkosiTooOld(found: string | null, distroId: string, distroVersion: string): WizardError {
  const how: Record<string, string> = {
    debian: distroVersion === '12' ? 'on Debian 12 install it from bookworm-backports: apt-get install -t bookworm-backports mkosi' : 'apt-get install mkosi',
    ubuntu: 'apt-get install mkosi (Ubuntu 24.10 or later), or pipx install git+https://github.com/systemd/mkosi',
    fedora: 'dnf install mkosi',
    centos: 'dnf install mkosi (from EPEL)',
    arch: 'pacman -S mkosi',
    opensuse: 'zypper install mkosi',
  };
  return new WizardError(
    found ? `mkosi ${found} is too old: mkosi-initrd needs mkosi >= 24` : 'mkosi is not installed: building an initrd from packages needs mkosi >= 24 (mkosi-initrd)', { hint: how[distroId] ?? 'install mkosi 24 or newer from your distribution or from https://github.com/systemd/mkosi' },
  );
}
