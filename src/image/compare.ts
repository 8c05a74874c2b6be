/**
 * Two builds of the same variant, compared member by member: an initrd's
 * cpio members (name, mode, owner, mtime, content), or a unified kernel
 * image's PE sections with the embedded initrd's members. Each difference
 * carries its likely cause from a table of what is known to make initrds
 * differ, so a failed check says what to fix rather than just "differs".
 * Pure: buffers in, differences out.
 */
import { createHash } from 'node:crypto';
import { readInitrd, type CpioEntry, type CpioImage } from './cpio.js';
import { looksLikePe, readPe, sectionData, type PeImage } from './pe.js';

export type DiffField = 'presence' | 'type' | 'mode' | 'owner' | 'mtime' | 'content' | 'link' | 'inode' | 'order' | 'bytes';

export interface Difference {
  /** The member's path in the archive; `.initrd/<path>` inside a UKI; `section:<name>` for a PE section; `(archive)` / `(pe headers)` for what lies outside members. */
  member: string;
  fields: DiffField[];
  cause: string;
  /** The two values of the first differing field, short and printable. */
  detail?: string;
}

export interface Comparison {
  identical: boolean;
  kind: 'cpio' | 'uki';
  differences: Difference[];
}

interface Cause {
  /** Matches the member path (without `.initrd/`). */
  path?: RegExp;
  /** Matches when every differing field is one of these. */
  only?: DiffField[];
  cause: string;
}

/**
 * What is known to make two builds differ, most specific first. The wording
 * says what the member is and what pins it.
 */
export const KNOWN_CAUSES: Cause[] = [
  // Only the time differs: whatever the file is, the clamp was missing.
  { only: ['mtime'], cause: 'timestamps after SOURCE_DATE_EPOCH: set [Content] SourceDateEpoch= (mkosi clamps every mtime to it)' },
  { path: /(^|\/)(var\/cache\/ldconfig\/aux-cache|etc\/ld\.so\.cache~?)$/, cause: "ldconfig's aux-cache records the build root's inode numbers and ctimes (mkosi >= 25 removes it from initrds; RemoveFiles= on 24)" },
  { path: /(^|\/)(etc\/machine-id|var\/lib\/dbus\/machine-id|var\/lib\/systemd\/random-seed|var\/lib\/systemd\/credential\.secret)$/, cause: 'machine-id / random seed: generated per build (first boot makes them; an image should not carry them)' },
  { path: /(^|\/)(usr\/lib|var\/lib)\/systemd\/catalog\/database$/, cause: 'the journal message catalog is compiled at build time (journalctl --update-catalog): hash order and header time' },
  { path: /(^|\/)(usr\/lib|etc)\/udev\/hwdb\.bin$/, cause: "udev's hardware database is compiled at build time (systemd-hwdb update)" },
  { path: /(^|\/)var\/(log\/|lib\/dpkg\/[^/]*-old$|lib\/dpkg\/(triggers|updates)\/|cache\/debconf\/[^/]*-old$|lib\/apt\/extended_states$)/, cause: 'package manager logs and backups (dpkg.log, apt history, status-old …) record the build time' },
  { path: /(^|\/)var\/lib\/dpkg\/status$/, cause: "dpkg's status database: a package's state or version changed between the builds (different package metadata?)" },
  { path: /(\.pyc$|\/__pycache__\/)/, cause: 'python bytecode embeds the source mtime (or is compiled in a different order)' },
  { path: /(^|\/)etc\/(shadow|gshadow|passwd|group)-?$/, cause: 'user database: the last password change is a day count from the build time (shadow honours SOURCE_DATE_EPOCH)' },
  { path: /(^|\/)(usr\/)?lib\/modules\/[^/]+\/modules\.[a-z.]+$/, cause: "depmod's indexes differ: a different set of modules went in (the module list — live /proc/modules — changed between builds?)" },
  { path: /^\(archive\)$/, only: ['order'], cause: 'member order: the archive was written from an unsorted file list' },
  { path: /^\(archive\)$/, cause: 'compressed bytes differ though every member is identical: compressor version, level or threads' },
  { path: /^\(pe headers\)$/, cause: 'PE headers (COFF TimeDateStamp, checksum or section layout): the UKI tool stamps build time unless SOURCE_DATE_EPOCH is set' },
  { only: ['inode'], cause: "inode numbers: cpio was run without --renumber-inodes (mkosi 24 passes --reproducible, which renumbers; an archive written by other tools may not)" },
  { only: ['order'], cause: 'member order: the archive was written from an unsorted file list' },
  { only: ['presence'], cause: 'present in one build only: different package metadata between the builds, or something written at build time' },
];

export function likelyCause(member: string, fields: DiffField[]): string {
  const p = member.replace(/^\.initrd\//, '');
  for (const c of KNOWN_CAUSES) {
    if (c.path && !c.path.test(p)) continue;
    if (c.only && !fields.every((f) => c.only!.includes(f))) continue;
    return c.cause;
  }
  return 'unknown: compare the two members (diffoscope a b)';
}

const S_IFMT = 0o170000;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

function entryDiff(name: string, a: CpioEntry, b: CpioEntry, ia: CpioImage, ib: CpioImage, inodes: boolean): { fields: DiffField[]; detail?: string } {
  const fields: DiffField[] = [];
  const details: string[] = [];
  if ((a.mode & S_IFMT) !== (b.mode & S_IFMT)) {
    fields.push('type');
    details.push(`type ${(a.mode & S_IFMT).toString(8)} vs ${(b.mode & S_IFMT).toString(8)}`);
  } else if (a.mode !== b.mode) {
    fields.push('mode');
    details.push(`mode ${(a.mode & 0o7777).toString(8)} vs ${(b.mode & 0o7777).toString(8)}`);
  }
  if (a.uid !== b.uid || a.gid !== b.gid) {
    fields.push('owner');
    details.push(`owner ${a.uid}:${a.gid} vs ${b.uid}:${b.gid}`);
  }
  if (a.mtime !== b.mtime) {
    fields.push('mtime');
    details.push(`mtime ${iso(a.mtime)} vs ${iso(b.mtime)}`);
  }
  if ((a.link ?? null) !== (b.link ?? null)) {
    fields.push('link');
    details.push(`link ${a.link ?? '-'} vs ${b.link ?? '-'}`);
  } else if (!a.link && (a.size !== b.size || !equalBytes(ia.read(name), ib.read(name)))) {
    fields.push('content');
    details.push(a.size !== b.size ? `size ${a.size} vs ${b.size}` : 'same size, other bytes');
  }
  if (inodes && (a.ino !== b.ino || a.nlink !== b.nlink)) {
    fields.push('inode');
    details.push(`inode ${a.ino}/${a.nlink} links vs ${b.ino}/${b.nlink}`);
  }
  return { fields, detail: details.join('; ') || undefined };
}

function equalBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (!a || !b) return a === b;
  return a.equals(b);
}

/** Member-by-member differences of two parsed initrds; `prefix` names where they sit (inside a UKI). */
export function compareArchives(a: CpioImage, b: CpioImage, prefix = ''): Difference[] {
  const out: Difference[] = [];
  const push = (member: string, fields: DiffField[], detail?: string) => out.push({ member: prefix + member, fields, cause: likelyCause(prefix + member, fields), ...(detail ? { detail } : {}) });
  const names = new Set([...a.entries.keys(), ...b.entries.keys()]);
  // Renumbered inodes shift after a member that only one build has: then they say nothing more than that member.
  const sameMembers = names.size === a.entries.size && names.size === b.entries.size;
  for (const name of [...names].sort()) {
    const ea = a.entries.get(name);
    const eb = b.entries.get(name);
    if (!ea || !eb) {
      push(name, ['presence'], ea ? 'only in the first build' : 'only in the second build');
      continue;
    }
    const d = entryDiff(name, ea, eb, a, b, sameMembers);
    if (d.fields.length) push(name, d.fields, d.detail);
  }
  // The same members in another order give other bytes (and another inode numbering).
  const common = (m: CpioImage) => [...m.entries.keys()].filter((k) => a.entries.has(k) && b.entries.has(k));
  const oa = common(a);
  const ob = common(b);
  const firstMoved = oa.findIndex((k, i) => ob[i] !== k);
  if (firstMoved >= 0) push('(archive)', ['order'], `first out of place: ${oa[firstMoved]} (position ${firstMoved})`);
  return out;
}

async function compareUki(a: Buffer, b: Buffer, pa: PeImage, pb: PeImage): Promise<Difference[]> {
  const out: Difference[] = [];
  const push = (member: string, fields: DiffField[], detail?: string) => out.push({ member, fields, cause: likelyCause(member, fields), ...(detail ? { detail } : {}) });
  const names = [...new Set([...pa.sections.map((s) => s.name), ...pb.sections.map((s) => s.name)])];
  let sectionsDiffer = false;
  for (const name of names) {
    const sa = pa.sections.find((s) => s.name === name);
    const sb = pb.sections.find((s) => s.name === name);
    if (!sa || !sb) {
      sectionsDiffer = true;
      push(`section:${name}`, ['presence'], sa ? 'only in the first build' : 'only in the second build');
      continue;
    }
    const da = sectionData(a, sa);
    const db = sectionData(b, sb);
    if (da.equals(db)) continue;
    sectionsDiffer = true;
    if (name === '.initrd') {
      // The section holds the initrd as built: its members say what differs.
      const inner = compareArchives(await readInitrd(da, 'the first UKI\'s .initrd'), await readInitrd(db, 'the second UKI\'s .initrd'), '.initrd/');
      out.push(...(inner.length ? inner : [{ member: '.initrd/(archive)', fields: ['bytes'] as DiffField[], cause: likelyCause('(archive)', ['bytes']) }]));
    } else {
      push(`section:${name}`, ['content'], da.length !== db.length ? `size ${da.length} vs ${db.length}` : `sha256 ${sha(da).slice(0, 12)} vs ${sha(db).slice(0, 12)}`);
    }
  }
  // Same sections, other file: the bytes outside them (headers, alignment) differ.
  if (!sectionsDiffer && !a.equals(b)) push('(pe headers)', ['bytes']);
  return out;
}

/** Compares two built images (initrds or UKIs) as files. */
export async function compareImages(a: Buffer, b: Buffer): Promise<Comparison> {
  const identical = a.equals(b);
  if (looksLikePe(a) && looksLikePe(b)) {
    const differences = identical ? [] : await compareUki(a, b, readPe(a, 'the first image'), readPe(b, 'the second image'));
    return { identical, kind: 'uki', differences };
  }
  if (identical) return { identical, kind: 'cpio', differences: [] };
  const differences = compareArchives(await readInitrd(a, 'the first image'), await readInitrd(b, 'the second image'));
  if (!differences.length) differences.push({ member: '(archive)', fields: ['bytes'], cause: likelyCause('(archive)', ['bytes']) });
  return { identical, kind: 'cpio', differences };
}

export function sha256(b: Uint8Array): string {
  return sha(b);
}

/** Differences grouped by cause, largest group first: what the text output prints. */
export function byCause(differences: Difference[]): Array<{ cause: string; members: Difference[] }> {
  const groups = new Map<string, Difference[]>();
  for (const d of differences) groups.set(d.cause, [...(groups.get(d.cause) ?? []), d]);
  return [...groups.entries()].map(([cause, members]) => ({ cause, members })).sort((x, y) => y.members.length - x.members.length);
}
