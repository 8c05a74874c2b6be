/**
 * Many hosts at once, for administrators deciding for a fleet: each snapshot
 * analysed as `detect` and `suggest` would, and the supported hosts grouped by
 * identical variant, which is the set of initrds the fleet needs. A snapshot
 * that cannot be read is one host's answer, never the end of the run.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeUnknown, WizardError } from '../errors.js';
import { analyzeSnapshot } from '../host/analyze.js';
import { isArchiveOutput, loadSnapshotSync } from '../host/snapshot.js';
import type { Feature, UnsupportedFinding } from '../host/report.js';
import type { Profile } from '../variant/profiles.js';
import { suggest } from '../variant/suggest.js';
import { resolveDistro } from './host.js';

export interface FleetVariant {
  /** The same id for every host whose initrd would be the same: distribution, packages and modules. */
  id: string;
  /** The distribution and its release, as the packages are resolved for it ("debian 12"). */
  distro: string;
  profiles: string[];
  packages: string[];
  modules: string[];
}

export interface FleetHost {
  name: string;
  path: string;
  /** Supported: nothing unsupported and nothing missing from the snapshot. */
  supported: boolean;
  features: Feature[];
  unsupported: Array<Pick<UnsupportedFinding, 'id' | 'device' | 'reason' | 'advice'>>;
  /** Facts the snapshot lacks ("cannot tell"): each as what could not be followed and why. */
  incomplete: string[];
  /** The variant's id (see variants), or null when the host has none (unsupported, cannot tell, unreadable). */
  variant: string | null;
  /** Why the snapshot could not be read at all, or null. */
  error: string | null;
}

/** A host's name from its snapshot's path: the directory's name, or the archive's without ".tar". */
const hostName = (p: string) => path.basename(p, '.tar');

/**
 * Where the snapshots are: each path a snapshot directory, a snapshot archive
 * (FILE.tar), or a directory of them (one level down).
 */
export async function fleetSnapshotDirs(paths: string[]): Promise<Array<{ name: string; path: string; error?: string }>> {
  const out: Array<{ name: string; path: string; error?: string }> = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    const st = await stat(abs).catch((err: NodeJS.ErrnoException) => err);
    if (st instanceof Error) {
      out.push({ name: hostName(abs), path: abs, error: st.code === 'ENOENT' ? 'no such file or directory' : describeUnknown(st) });
      continue;
    }
    if (st.isFile()) {
      out.push({ name: hostName(abs), path: abs });
      continue;
    }
    if (!st.isDirectory()) {
      out.push({ name: hostName(abs), path: abs, error: 'neither a snapshot directory nor a snapshot archive' });
      continue;
    }
    if ((await stat(path.join(abs, 'snapshot.json')).catch(() => null)) !== null) {
      out.push({ name: hostName(abs), path: abs });
      continue;
    }
    // A directory that cannot be listed is one answer, not the end of the run.
    const listed = await readdir(abs, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => err);
    if (listed instanceof Error) {
      out.push({ name: hostName(abs), path: abs, error: `cannot list it (${listed.code ?? describeUnknown(listed)})` });
      continue;
    }
    // Snapshots are read only from real directories and archives: a link among them is reported, not followed and not skipped in silence.
    const children = listed
      .filter((e) => e.isDirectory() || e.isSymbolicLink() || (e.isFile() && isArchiveOutput(e.name)))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (!children.length) out.push({ name: hostName(abs), path: abs, error: 'neither a snapshot (no snapshot.json) nor a directory of snapshots or snapshot archives' });
    for (const c of children) {
      out.push({ name: hostName(c.name), path: path.join(abs, c.name), ...(c.isSymbolicLink() ? { error: 'a symbolic link, not a snapshot: copy the snapshot in, or name it directly' } : {}) });
    }
  }
  return out;
}

function variantId(distro: string, packages: readonly string[], modules: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify([distro, [...packages].sort(), [...modules].sort()])).digest('hex').slice(0, 12);
}

/** One host's answer: never throws for what the snapshot holds. */
export function fleetHost(entry: { name: string; path: string; error?: string }, profiles: Map<string, Profile>): { host: FleetHost; variant: FleetVariant | null } {
  const base: FleetHost = { name: entry.name, path: entry.path, supported: false, features: [], unsupported: [], incomplete: [], variant: null, error: entry.error ?? null };
  if (entry.error) return { host: base, variant: null };
  try {
    const report = analyzeSnapshot(loadSnapshotSync(entry.path));
    const host: FleetHost = {
      ...base,
      features: report.features,
      unsupported: report.unsupported.map(({ id, device, reason, advice }) => ({ id, device, reason, advice })),
      incomplete: report.incomplete.map((f) => `${f.what}: ${f.reason}`),
    };
    host.supported = !host.unsupported.length && !host.incomplete.length;
    if (!host.supported) return { host, variant: null };
    const distro = resolveDistro(report);
    const v = suggest(report, profiles, { distro });
    // The release is part of the identity: bookworm's and trixie's lvm2 are not the same initrd.
    const release = `${distro.id}${distro.version ? ` ${distro.version}` : distro.codename ? ` ${distro.codename}` : ''}`;
    const variant: FleetVariant = { id: variantId(release, v.packages, v.kernelModules), distro: release, profiles: v.profiles, packages: v.packages, modules: v.kernelModules };
    host.variant = variant.id;
    return { host, variant };
  } catch (err) {
    return { host: { ...base, error: err instanceof WizardError ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : describeUnknown(err) }, variant: null };
  }
}

export interface FleetReport {
  hosts: FleetHost[];
  variants: Array<FleetVariant & { hosts: string[] }>;
  summary: { hosts: number; supported: number; unsupported: number; cannotTell: number; unreadable: number; variants: number };
}

/** Every host in `paths`, and the variants that cover the supported ones (most hosts first). */
export async function analyzeFleet(paths: string[], profiles: Map<string, Profile>): Promise<FleetReport> {
  const entries = await fleetSnapshotDirs(paths);
  const answers = entries.map((e) => fleetHost(e, profiles));
  const hosts: FleetHost[] = [];
  const variants = new Map<string, FleetVariant & { hosts: string[] }>();
  for (const { host, variant } of answers) {
    hosts.push(host);
    if (variant) {
      const group = variants.get(variant.id) ?? { ...variant, hosts: [] };
      group.hosts.push(host.name);
      variants.set(variant.id, group);
    }
  }
  const sorted = [...variants.values()].sort((a, b) => b.hosts.length - a.hosts.length || a.id.localeCompare(b.id));
  return {
    hosts,
    variants: sorted,
    summary: {
      hosts: hosts.length,
      supported: hosts.filter((h) => h.supported).length,
      unsupported: hosts.filter((h) => h.unsupported.length).length,
      cannotTell: hosts.filter((h) => !h.error && !h.unsupported.length && h.incomplete.length).length,
      unreadable: hosts.filter((h) => h.error).length,
      variants: sorted.length,
    },
  };
}
