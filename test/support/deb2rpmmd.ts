/**
 * Test tool: turns Debian's real dependency graph (`apt-cache dumpavail`,
 * ~64,000 packages) into an rpm-md repository, giving a Fedora-sized
 * repository with a real graph for benchmarks and equality checks with dnf.
 *
 * Mapping: Depends/Pre-Depends → requires, `a | b` → `(a or b)`, Provides
 * (versioned `=` kept), Installed-Size KiB → bytes, the dpkg architecture
 * → rpm's (amd64 → x86_64, arm64 → aarch64), all → noarch; multi-arch
 * qualifiers as apt.ts reads them for that architecture ("name:any" is
 * provided by Multi-Arch: allowed packages). Approximations: dpkg and rpm
 * order versions differently in corner cases, an unversioned Provides
 * satisfies a versioned requirement under rpm rules, and Conflicts/Breaks are
 * left out (the in-process resolver does not model conflicts).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { debProvides, parseDebDepends, readDebStanzas } from '../../src/packages/apt.js';
import { machineOf, rpmArch } from '../../src/packages/arch.js';
import { parseEvr } from '../../src/packages/version.js';
import type { Cap, Req } from '../../src/packages/deps.js';
import type { Evr } from '../../src/packages/version.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** rpm versions may not contain '-' or ':'; dpkg's upstream part may. */
function rpmEvr(e: Evr): { epoch: number; ver: string; rel: string } {
  return { epoch: e.epoch, ver: e.version.replace(/[-:]/g, '_'), rel: (e.release ?? '0').replace(/[-:]/g, '_') };
}

function evrAttrs(e: Evr | null): string {
  if (!e) return '';
  const r = rpmEvr(e);
  return ` epoch="${r.epoch}" ver="${esc(r.ver)}"${e.release !== null ? ` rel="${esc(r.rel)}"` : ''}`;
}

function capEntry(c: Cap): string {
  return `<rpm:entry name="${esc(c.name)}"${c.op && c.evr ? ` flags="${c.op}"${evrAttrs(c.evr)}` : ''}/>`;
}

function richText(r: Req): string {
  if (r.kind === 'cap') {
    const c = r.cap;
    if (!c.op || !c.evr) return c.name;
    const e = rpmEvr(c.evr);
    const op = { LT: '<', LE: '<=', EQ: '=', GE: '>=', GT: '>' }[c.op];
    return `${c.name} ${op} ${e.epoch ? `${e.epoch}:` : ''}${e.ver}${c.evr.release !== null ? `-${e.rel}` : ''}`;
  }
  if (r.kind === 'or' || r.kind === 'and') return `(${r.args.map(richText).join(` ${r.kind} `)})`;
  return '';
}

function reqEntry(r: Req): string {
  return r.kind === 'cap' ? capEntry(r.cap) : `<rpm:entry name="${esc(richText(r))}"/>`;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface ConvertResult {
  packages: number;
  dir: string;
}

/** `debArch` is the list's dpkg architecture (amd64, arm64, …); its packages get rpm's name for it. */
export async function convertDebToRpmMd(dumpavail: string, dir: string, debArch = 'amd64'): Promise<ConvertResult> {
  const warnings: string[] = [];
  const native = rpmArch(machineOf(debArch));
  const packages = [...readDebStanzas(dumpavail, debArch, warnings)].map((st) => ({
    name: st.name,
    arch: st.arch,
    evr: parseEvr(st.version),
    installSize: (Number(st.fields.get('Installed-Size') ?? 0) || 0) * 1024,
    provides: debProvides(st, debArch),
    requires: [...parseDebDepends(st.fields.get('Pre-Depends') ?? '', warnings, st.name, debArch), ...parseDebDepends(st.fields.get('Depends') ?? '', warnings, st.name, debArch)],
    recommends: parseDebDepends(st.fields.get('Recommends') ?? '', warnings, st.name, debArch),
  }));
  // One version per name and arch keeps the repository like a distribution's (apt lists can hold several).
  const seen = new Set<string>();
  const primary: string[] = [];
  const filelists: string[] = [];
  const other: string[] = [];
  let count = 0;
  for (const p of packages) {
    const arch = p.arch === 'all' ? 'noarch' : native;
    const key = `${p.name}.${arch}`;
    if (seen.has(key)) continue;
    seen.add(key);
    count++;
    const e = rpmEvr(p.evr);
    const pkgid = sha256(`${p.name}-${e.epoch}:${e.ver}-${e.rel}.${arch}`);
    const vtag = `<version epoch="${e.epoch}" ver="${esc(e.ver)}" rel="${esc(e.rel)}"/>`;
    const provides = [capEntry({ name: p.name, op: 'EQ', evr: p.evr }), ...p.provides.map(capEntry)];
    primary.push(
      `<package type="rpm"><name>${esc(p.name)}</name><arch>${arch}</arch>${vtag}<checksum type="sha256" pkgid="YES">${pkgid}</checksum>` +
        `<summary>${esc(p.name)}</summary><description/><packager/><url/><time file="1" build="1"/>` +
        `<size package="${Math.max(1, Math.floor(p.installSize / 3))}" installed="${p.installSize}" archive="${p.installSize}"/>` +
        `<location href="Packages/${esc(p.name)}-${esc(e.ver)}-${esc(e.rel)}.${arch}.rpm"/>` +
        `<format><rpm:license>Debian</rpm:license><rpm:vendor/><rpm:group>Unspecified</rpm:group><rpm:buildhost/><rpm:sourcerpm/><rpm:header-range start="0" end="1"/>` +
        `<rpm:provides>${provides.join('')}</rpm:provides>` +
        (p.requires.length ? `<rpm:requires>${p.requires.map(reqEntry).join('')}</rpm:requires>` : '') +
        (p.recommends.length ? `<rpm:recommends>${p.recommends.map(reqEntry).join('')}</rpm:recommends>` : '') +
        `</format></package>\n`,
    );
    filelists.push(`<package pkgid="${pkgid}" name="${esc(p.name)}" arch="${arch}">${vtag}</package>\n`);
    other.push(`<package pkgid="${pkgid}" name="${esc(p.name)}" arch="${arch}">${vtag}</package>\n`);
  }
  const docs: Record<string, string> = {
    primary: `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${count}">\n${primary.join('')}</metadata>\n`,
    filelists: `<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${count}">\n${filelists.join('')}</filelists>\n`,
    other: `<?xml version="1.0" encoding="UTF-8"?>\n<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="${count}">\n${other.join('')}</otherdata>\n`,
  };
  await mkdir(path.join(dir, 'repodata'), { recursive: true });
  const entries: string[] = [];
  for (const [type, xml] of Object.entries(docs)) {
    const open = Buffer.from(xml);
    const gz = gzipSync(open, { level: 6 });
    const sum = sha256(gz);
    const href = `repodata/${sum}-${type}.xml.gz`;
    await writeFile(path.join(dir, href), gz);
    entries.push(
      `<data type="${type}"><checksum type="sha256">${sum}</checksum><open-checksum type="sha256">${sha256(open)}</open-checksum>` +
        `<location href="${href}"/><timestamp>1</timestamp><size>${gz.length}</size><open-size>${open.length}</open-size></data>`,
    );
  }
  await writeFile(
    path.join(dir, 'repodata', 'repomd.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm"><revision>1</revision>${entries.join('')}</repomd>\n`,
  );
  return { packages: count, dir };
}
