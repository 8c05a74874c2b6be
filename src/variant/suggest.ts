/** HostReport + profiles → Variant: which profiles, and the merged packages, modules and host files. */
import { FS_MODULES, moduleFor, RAID_LEVEL_MODULES } from '../host/modules.js';
import type { Feature, HostReport } from '../host/report.js';
import { generatorName } from '../host/generator.js';
import type { Distro } from './distro.js';
import { PACKAGE_NAME, pick, type Profile } from './profiles.js';
import { InputError } from '../errors.js';

export interface Variant {
  distro: string;
  distroVersion: string;
  family: Distro['family'];
  profiles: string[];
  /** Why each profile was chosen. */
  profileReasons: Record<string, string>;
  packages: string[];
  kernelModules: string[];
  hostFiles: string[];
  notes: string[];
  /** The user's own changes on top of the profiles. */
  tweaks: { add: string[]; remove: string[] };
}


/** Profiles selected by the report's features, closed over `requires`, in a stable order (base first). */
export function selectProfiles(report: HostReport, profiles: Map<string, Profile>, extra: string[] = []): Map<string, string> {
  const reasons = new Map<string, string>();
  const add = (name: string, why: string) => {
    if (reasons.has(name)) return;
    const p = profiles.get(name);
    if (!p) return;
    reasons.set(name, why);
    for (const r of p.requires) add(r, `required by ${name}`);
  };
  add('base', 'every initrd needs it');
  for (const p of profiles.values()) {
    const hit = p.features.find((f): f is Feature => f !== 'always' && report.features.includes(f));
    if (hit) add(p.name, (report.featureReasons[hit] ?? [hit])[0] ?? hit);
  }
  for (const e of extra) add(e, 'chosen by you');
  const order = [...profiles.keys()].filter((n) => reasons.has(n)).sort((a, b) => (a === 'base' ? -1 : b === 'base' ? 1 : a.localeCompare(b)));
  return new Map(order.map((n) => [n, reasons.get(n)!]));
}

export interface SuggestOptions {
  distro: Distro;
  /** Profiles to add or drop on top of the detected ones (e.g. toggled in the UI). */
  addProfiles?: string[];
  dropProfiles?: string[];
  tweaks?: { add: string[]; remove: string[] };
}

export function suggest(report: HostReport, profiles: Map<string, Profile>, options: SuggestOptions): Variant {
  const { distro } = options;
  const selected = selectProfiles(report, profiles, options.addProfiles);
  for (const d of options.dropProfiles ?? []) if (d !== 'base') selected.delete(d);
  const packages: string[] = [];
  const modules: string[] = [];
  const files: string[] = [];
  const notes: string[] = [];
  const push = (into: string[], items: string[]) => {
    for (const i of items) if (!into.includes(i)) into.push(i);
  };
  for (const name of selected.keys()) {
    const p = profiles.get(name)!;
    push(packages, pick(p.packages, distro));
    push(modules, pick(p.modules, distro));
    push(files, pick(p.files, distro));
    push(notes, p.notes);
  }
  // Host-specific modules the profiles cannot know: the filesystems and disk controllers in use, and RAID levels.
  for (const m of report.mounts) {
    const fsModule = moduleFor(FS_MODULES, m.fstype);
    if (fsModule && m.role !== 'resume') push(modules, [fsModule]);
  }
  push(modules, report.diskDrivers);
  push(modules, report.targetModules);
  for (const d of report.devices) {
    const level = moduleFor(RAID_LEVEL_MODULES, d.type);
    if (level) push(modules, [level]);
  }
  const tweaks = options.tweaks ?? { add: [], remove: [] };
  // User-chosen names end up in a config file and a package manager's argv: strict names only.
  for (const n of [...tweaks.add, ...tweaks.remove]) {
    if (!PACKAGE_NAME.test(n)) throw new InputError(`"${n}" is not a package name`, 'package names are letters, digits and . _ + -');
  }
  push(packages, tweaks.add);
  const finalPackages = packages.filter((p) => !tweaks.remove.includes(p));
  if (report.unsupported.length) {
    notes.unshift(
      `This host uses storage a package-built initrd cannot bring up (${[...new Set(report.unsupported.map((u) => u.id))].join(', ')}): keep ${generatorName(report.host.initrdGenerator)}. The variant below is for reference only.`,
    );
  }
  return {
    distro: distro.id,
    distroVersion: distro.version,
    family: distro.family,
    profiles: [...selected.keys()],
    profileReasons: Object.fromEntries(selected),
    packages: finalPackages,
    kernelModules: modules,
    hostFiles: files,
    notes,
    tweaks,
  };
}
