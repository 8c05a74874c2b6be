/**
 * What mkosi-initrd itself puts into every image, read from the installed
 * mkosi: its built-in configuration (resources/mkosi-initrd), then the
 * system's own layers (/usr/lib, /usr/local/lib, /run, /etc mkosi-initrd, as
 * that version includes them), evaluated the way mkosi does for the build
 * kernel-install runs: [Match]/[TriggerMatch] against the build host's
 * distribution and release, format cpio, no profiles. Nothing here is a copy
 * of mkosi's lists: a different mkosi gives a different answer.
 */
import path from 'node:path';
import type { HostFs } from '../system/files.js';
import { parseMkosiConfig, type ConfigLine } from './config.js';
import { hostMachine, mkosiArch } from '../packages/arch.js';

export interface MatchContext {
  /** mkosi's Distribution= value (debian, ubuntu, fedora, centos, arch, opensuse …). */
  distribution: string;
  /** mkosi's Release=: the codename on apt distributions, else VERSION_ID. */
  release: string;
  format: 'cpio' | 'uki';
  architecture: string;
  /** mkosi >= 26 profiles; kernel-install's plugin never passes one. */
  profiles: string[];
}

export interface Sourced {
  spec: string;
  /** The file that named it, for "why is this here". */
  source: string;
}

export interface EffectiveContent {
  packages: Sourced[];
  removePackages: Sourced[];
  /** Profiles this mkosi offers (>= 26) that the build does not enable. */
  profilesOffered: string[];
  /** Files read, in mkosi's order, and whether each applied. */
  files: Array<{ path: string; applied: boolean }>;
  warnings: string[];
}

/** Where Python packages live on the distributions mkosi ships for. */
const SITE_DIRS = ['/usr/lib/python3/dist-packages', '/usr/local/lib/python3/dist-packages'];
const SITE_GLOBS = ['/usr/lib', '/usr/lib64', '/usr/local/lib'];

/** The installed mkosi's resources/mkosi-initrd directory (host path), or null when it cannot be found. */
export async function findBuiltinDir(fs: HostFs): Promise<string | null> {
  const candidates = [...SITE_DIRS];
  for (const base of SITE_GLOBS) {
    for (const name of ((await fs.list(base).catch(() => null)) ?? []).filter((n) => /^python3\.\d+$/.test(n)).sort().reverse()) {
      candidates.push(`${base}/${name}/site-packages`, `${base}/${name}/dist-packages`);
    }
  }
  for (const c of candidates) {
    const dir = `${c}/mkosi/resources/mkosi-initrd`;
    if ((await fs.stat(`${dir}/mkosi.conf`).catch(() => null))?.isFile()) return dir;
  }
  return null;
}

/** The system layers mkosi-initrd adds with --include after its own, per version. */
export function systemLayers(mkosiMajor: number): string[] {
  return mkosiMajor >= 25 ? ['/usr/lib/mkosi-initrd', '/usr/local/lib/mkosi-initrd', '/run/mkosi-initrd', '/etc/mkosi-initrd'] : ['/usr/lib/mkosi-initrd', '/etc/mkosi-initrd'];
}

type Condition = { key: string; value: string; negate: boolean; trigger: boolean };

function conditions(lines: ConfigLine[], section: number): Condition[] {
  const out: Condition[] = [];
  for (let i = section + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.kind === 'section') break;
    if (l.kind !== 'setting') continue;
    for (const raw of l.value.split(/\s+/).filter(Boolean)) {
      let v = raw;
      const trigger = v.startsWith('|');
      if (trigger) v = v.slice(1);
      const negate = v.startsWith('!');
      if (negate) v = v.slice(1);
      out.push({ key: l.key, value: v, negate, trigger });
    }
  }
  return out;
}

/** One condition against the context; null for a key this model does not know (the section then does not apply). */
function holds(c: Condition, ctx: MatchContext, warnings: string[], file: string): boolean | null {
  let v: boolean;
  switch (c.key) {
    case 'Distribution':
      v = c.value === ctx.distribution;
      break;
    case 'Release':
      v = c.value === ctx.release;
      break;
    case 'Format':
      v = c.value === ctx.format;
      break;
    case 'Architecture':
      v = c.value === ctx.architecture;
      break;
    case 'Profiles':
    case 'Profile':
      v = ctx.profiles.includes(c.value);
      break;
    case 'Repositories':
      // Extra repositories (EPEL …) are never enabled by mkosi-initrd itself.
      v = false;
      break;
    default:
      warnings.push(`${file}: [Match] ${c.key}= is not modelled; the section is taken as not applying`);
      return null;
  }
  return c.negate ? !v : v;
}

/** mkosi: every plain condition holds, and at least one triggering one when there are any. */
function sectionHolds(conds: Condition[], ctx: MatchContext, warnings: string[], file: string): boolean {
  const results = conds.map((c) => ({ c, r: holds(c, ctx, warnings, file) }));
  if (results.some((x) => x.r === null)) return false;
  const plain = results.filter((x) => !x.c.trigger);
  const triggers = results.filter((x) => x.c.trigger);
  return plain.every((x) => x.r) && (!triggers.length || triggers.some((x) => x.r));
}

/** All [Match] sections hold, and one [TriggerMatch] section when there are any. */
function fileApplies(lines: ConfigLine[], ctx: MatchContext, warnings: string[], file: string): boolean {
  let triggerSections = 0;
  let triggerHit = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.kind !== 'section') continue;
    if (l.name === 'Match' && !sectionHolds(conditions(lines, i), ctx, warnings, file)) return false;
    if (l.name === 'TriggerMatch') {
      triggerSections++;
      if (sectionHolds(conditions(lines, i), ctx, warnings, file)) triggerHit = true;
    }
  }
  return !triggerSections || triggerHit;
}

interface Walk {
  fs: HostFs;
  ctx: MatchContext;
  overrides: Map<string, string>;
  out: EffectiveContent;
}

async function readText(w: Walk, file: string): Promise<string | null> {
  if (w.overrides.has(file)) return w.overrides.get(file)!;
  return w.fs.read(file).catch(() => null);
}

/** List settings accumulate across files; an empty assignment resets what came before. */
function apply(w: Walk, lines: ConfigLine[], file: string): void {
  for (const l of lines) {
    if (l.kind !== 'setting' || l.section !== 'Content') continue;
    const into = l.key === 'Packages' ? w.out.packages : l.key === 'RemovePackages' ? w.out.removePackages : null;
    if (!into) continue;
    const items = l.value.split(/[\s,]+/).filter(Boolean);
    if (!items.length) into.length = 0;
    for (const spec of items) into.push({ spec, source: file });
  }
}

async function parseFile(w: Walk, file: string): Promise<boolean> {
  const text = await readText(w, file);
  if (text === null) return false;
  const r = parseMkosiConfig(text, file);
  if (!r.ok) {
    w.out.warnings.push(`${r.error}: mkosi would refuse this file too`);
    w.out.files.push({ path: file, applied: false });
    return false;
  }
  const applies = fileApplies(r.value.lines, w.ctx, w.out.warnings, file);
  w.out.files.push({ path: file, applied: applies });
  if (applies) apply(w, r.value.lines, file);
  return applies;
}

async function entries(w: Walk, dir: string): Promise<string[]> {
  const names = new Set((await w.fs.list(dir).catch(() => null)) ?? []);
  for (const p of w.overrides.keys()) if (path.posix.dirname(p) === dir) names.add(path.posix.basename(p));
  return [...names].sort();
}

/** A configuration directory: its mkosi.conf (which, when it does not match, skips the whole directory), then mkosi.conf.d in name order. */
async function parseDir(w: Walk, dir: string): Promise<void> {
  const main = `${dir}/mkosi.conf`;
  const hasMain = w.overrides.has(main) || (await w.fs.stat(main).catch(() => null))?.isFile();
  if (hasMain && !(await parseFile(w, main))) return;
  const confd = `${dir}/mkosi.conf.d`;
  for (const name of await entries(w, confd)) {
    const p = `${confd}/${name}`;
    if (w.overrides.has(p)) {
      if (name.endsWith('.conf')) await parseFile(w, p);
      continue;
    }
    const st = await w.fs.stat(p).catch(() => null);
    if (st?.isDirectory()) await parseDir(w, p);
    else if (st?.isFile() && name.endsWith('.conf')) await parseFile(w, p);
  }
}

export interface ReadOptions {
  fs: HostFs;
  /** resources/mkosi-initrd of the installed mkosi. */
  builtinDir: string;
  mkosiMajor: number;
  ctx: MatchContext;
  /** Files as they will be when the build runs (the drop-in install would write): host path → text. */
  overrides?: Map<string, string>;
}

export async function readEffectiveContent(opts: ReadOptions): Promise<EffectiveContent> {
  const out: EffectiveContent = { packages: [], removePackages: [], profilesOffered: [], files: [], warnings: [] };
  const w: Walk = { fs: opts.fs, ctx: opts.ctx, overrides: opts.overrides ?? new Map(), out };
  await parseDir(w, opts.builtinDir);
  out.profilesOffered = ((await opts.fs.list(`${opts.builtinDir}/mkosi.profiles`).catch(() => null)) ?? []).sort();
  for (const layer of systemLayers(opts.mkosiMajor)) {
    const present = [...w.overrides.keys()].some((p) => p.startsWith(layer + '/')) || (await opts.fs.stat(layer).catch(() => null))?.isDirectory();
    if (present) await parseDir(w, layer);
  }
  return out;
}

/**
 * One of mkosi's own profiles (>= 26: mkosi.profiles/NAME), evaluated for
 * this build host: what `--profile NAME` would add. kernel-install never
 * passes --profile, so a drop-in has to name these packages itself.
 */
export async function readProfileContent(fs: HostFs, builtinDir: string, name: string, ctx: MatchContext): Promise<EffectiveContent & { extraTree: string | null }> {
  const out: EffectiveContent = { packages: [], removePackages: [], profilesOffered: [], files: [], warnings: [] };
  const dir = `${builtinDir}/mkosi.profiles/${name}`;
  await parseDir({ fs, ctx: { ...ctx, profiles: [name] }, overrides: new Map(), out }, dir);
  const extra = `${dir}/mkosi.extra`;
  return { ...out, extraTree: (await fs.stat(extra).catch(() => null))?.isDirectory() ? extra : null };
}

/** mkosi's Distribution= and Release= for a build host's os-release facts (mkosi's detect_distribution). */
/** `machine` (uname -m) is the target; mkosi matches Architecture= in its own names. */
export function matchContextFor(distro: { id: string; version: string; codename?: string; idLike?: string[] }, format: 'cpio' | 'uki' = 'cpio', machine = hostMachine()): MatchContext {
  const KNOWN = ['fedora', 'debian', 'kali', 'ubuntu', 'postmarketos', 'arch', 'opensuse', 'mageia', 'centos', 'rhel', 'rhel-ubi', 'openmandriva', 'rocky', 'alma', 'azure', 'custom'];
  const QUIRKS: Record<string, string> = { azurelinux: 'azure', almalinux: 'alma', 'opensuse-tumbleweed': 'opensuse', 'opensuse-leap': 'opensuse' };
  let distribution = distro.id;
  for (const id of [distro.id, ...(distro.idLike ?? [])]) {
    const d = QUIRKS[id] ?? id;
    if (KNOWN.includes(d)) {
      distribution = d;
      break;
    }
  }
  const apt = ['debian', 'ubuntu', 'kali'].includes(distribution);
  const release = apt && distro.codename ? distro.codename : distro.id === 'opensuse-tumbleweed' ? 'tumbleweed' : distro.version;
  return { distribution, release, format, architecture: mkosiArch(machine), profiles: [] };
}
