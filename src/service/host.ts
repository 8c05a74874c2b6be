/** Where the host facts come from (a snapshot or this machine), and the distribution and architecture they are read for. */
import { InputError } from '../errors.js';
import { analyze } from '../host/analyze.js';
import { captureHost } from '../host/capture.js';
import { loadSnapshot, type Snapshot } from '../host/snapshot.js';
import type { HostReport } from '../host/report.js';
import { systemRunner, type Runner } from '../system/run.js';
import { codenameFor, familyOf, KNOWN_DISTRO_IDS, type Distro } from '../variant/distro.js';

export interface HostSource {
  snapshot?: string;
  runner?: Runner;
}

/** The snapshot named by --snapshot, or a live capture of this host (held in memory). */
export async function obtainSnapshot(source: HostSource): Promise<{ snapshot: Snapshot; missed: string[] }> {
  if (source.snapshot) return { snapshot: await loadSnapshot(source.snapshot), missed: [] };
  const { snapshot, missed } = await captureHost({ runner: source.runner ?? systemRunner, lean: true });
  return { snapshot, missed };
}

export async function obtainReport(source: HostSource): Promise<{ report: HostReport; snapshot: Snapshot; missed: string[] }> {
  const { snapshot, missed } = await obtainSnapshot(source);
  return { report: analyze(snapshot), snapshot, missed };
}

/** --distro, else the host's os-release ID with ID_LIKE fallback. */
export function resolveDistro(report: HostReport, flag?: string): Distro {
  if (flag) {
    const m = /^([a-z0-9._-]+?)(?:[-:]([0-9][0-9.]*))?$/i.exec(flag.trim());
    const id = m?.[1]?.toLowerCase() ?? '';
    const family = familyOf(id);
    if (!family) {
      throw new InputError(`unknown distribution "${flag}"`, `use one of: ${KNOWN_DISTRO_IDS.join(', ')} (optionally with a version, e.g. debian-12)`);
    }
    const version = m?.[2] ?? (id === report.host.os ? report.host.osVersion : '');
    const codename = codenameFor(id, version);
    return { id, version, family, ...(codename ? { codename } : {}) };
  }
  const family = familyOf(report.host.os, report.host.idLike);
  if (!family) {
    throw new InputError(
      `the host's distribution "${report.host.os}" is not one mkosi-initrd builds for`,
      'pass --distro fedora|debian|ubuntu|arch|opensuse to choose the package names',
    );
  }
  const codename = codenameFor(report.host.os, report.host.osVersion);
  return { id: report.host.os, version: report.host.osVersion, family, ...(codename ? { codename } : {}), idLike: report.host.idLike };
}

export { resolveArch } from '../packages/arch.js';
