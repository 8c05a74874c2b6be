/**
 * One graph model behind every metadata source (rpm-md, dnf dump, apt): a
 * pool of packages with a provides index, so the resolver never cares where
 * the metadata came from.
 */
import type { Cap, Req } from './deps.js';
import { reqCaps } from './deps.js';
import { evrCmp, formatEvr, type Evr, type VersionScheme } from './version.js';

export interface Package {
  id: number;
  name: string;
  arch: string;
  evr: Evr;
  installSize: number;
  provides: Cap[];
  requires: Req[];
  /** Debian Pre-Depends are folded into requires; these are the weak ones. */
  recommends: Req[];
  obsoletes: Cap[];
  conflicts: Cap[];
  /** Files known from primary metadata (or all files, for sources that list them). */
  files: string[];
  repo: string;
  essential: boolean;
  /** Debian Priority as a rank (required 5 … extra 1), 0 when unknown; apt prefers higher among providers. */
  priority?: number;
}

export interface PoolSource {
  scheme: VersionScheme;
  /** The native architecture: x86_64 (rpm) or amd64 (deb). */
  arch: string;
  packages: Omit<Package, 'id'>[];
  /** Called once, on the first file requirement primary metadata cannot answer. */
  loadFiles?: (wanted: Set<string>) => Promise<Map<string, string[]>> | Map<string, string[]>;
}

const FLAG: Record<NonNullable<Cap['op']>, number> = { LT: 1, LE: 3, EQ: 2, GE: 6, GT: 4 };
const LESS = 1;
const EQUAL = 2;
const GREATER = 4;

export class Pool {
  readonly scheme: VersionScheme;
  readonly arch: string;
  readonly packages: Package[];
  private readonly provides = new Map<string, Array<{ pkg: Package; cap: Cap }>>();
  private readonly byName = new Map<string, Package[]>();
  private readonly fileIndex = new Map<string, Package[]>();
  private filesComplete = false;
  private readonly loadFiles: PoolSource['loadFiles'];

  constructor(source: PoolSource) {
    this.scheme = source.scheme;
    this.arch = source.arch;
    this.loadFiles = source.loadFiles;
    this.filesComplete = !source.loadFiles;
    this.packages = source.packages.map((p, id) => ({ ...p, id }));
    for (const pkg of this.packages) {
      const list = this.byName.get(pkg.name);
      if (list) list.push(pkg);
      else this.byName.set(pkg.name, [pkg]);
      let selfProvided = false;
      for (const c of pkg.provides) {
        if (c.name === pkg.name) selfProvided = true;
        this.addProvide(c.name, pkg, c);
      }
      // Every package provides its own name at its own version.
      if (!selfProvided) this.addProvide(pkg.name, pkg, { name: pkg.name, op: 'EQ', evr: pkg.evr });
      for (const f of pkg.files) {
        const l = this.fileIndex.get(f);
        if (l) l.push(pkg);
        else this.fileIndex.set(f, [pkg]);
      }
    }
  }

  private addProvide(name: string, pkg: Package, c: Cap) {
    const l = this.provides.get(name);
    if (l) l.push({ pkg, cap: c });
    else this.provides.set(name, [{ pkg, cap: c }]);
  }

  named(name: string): Package[] {
    return this.byName.get(name) ?? [];
  }

  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  evrCmp(a: Evr, b: Evr): number {
    return evrCmp(this.scheme, a, b);
  }

  /** Does a provided capability satisfy a required one? rpm's range overlap; dpkg needs a versioned provide for a versioned need. */
  capMatches(provide: Cap, need: Cap): boolean {
    if (provide.name !== need.name) return false;
    if (!need.op || !need.evr) return true;
    if (!provide.op || !provide.evr) return this.scheme === 'rpm';
    const a = FLAG[provide.op];
    const b = FLAG[need.op];
    const sense = this.evrCmp(provide.evr, need.evr);
    if (sense < 0) return (a & GREATER) !== 0 || (b & LESS) !== 0;
    if (sense > 0) return (a & LESS) !== 0 || (b & GREATER) !== 0;
    return ((a & EQUAL) !== 0 && (b & EQUAL) !== 0) || ((a & LESS) !== 0 && (b & LESS) !== 0) || ((a & GREATER) !== 0 && (b & GREATER) !== 0);
  }

  /** Packages providing a capability (files included), in pool order, each once. */
  whatProvides(need: Cap): Package[] {
    const out: Package[] = [];
    for (const { pkg, cap } of this.provides.get(need.name) ?? []) {
      if (this.capMatches(cap, need) && !out.includes(pkg)) out.push(pkg);
    }
    if (need.name.startsWith('/')) {
      for (const pkg of this.fileIndex.get(need.name) ?? []) if (!out.includes(pkg)) out.push(pkg);
    }
    return out;
  }

  /** Loads the full file lists for the file requirements primary could not answer. Idempotent. */
  async completeFiles(): Promise<void> {
    if (this.filesComplete || !this.loadFiles) return;
    this.filesComplete = true;
    const wanted = new Set<string>();
    for (const pkg of this.packages) {
      for (const r of [...pkg.requires, ...pkg.recommends]) {
        for (const c of reqCaps(r)) if (c.name.startsWith('/') && !this.fileIndex.has(c.name) && !this.provides.has(c.name)) wanted.add(c.name);
      }
    }
    if (!wanted.size) return;
    const found = await this.loadFiles(wanted);
    for (const [file, pkgKeys] of found) {
      for (const key of pkgKeys) {
        const pkg = this.byKey(key);
        if (!pkg) continue;
        const l = this.fileIndex.get(file);
        if (l) {
          if (!l.includes(pkg)) l.push(pkg);
        } else this.fileIndex.set(file, [pkg]);
      }
    }
  }

  get needsFileLists(): boolean {
    return !this.filesComplete;
  }

  private keyIndex: Map<string, Package> | null = null;

  /** "name-evr.arch" as file lists identify packages. */
  byKey(key: string): Package | undefined {
    if (!this.keyIndex) {
      this.keyIndex = new Map();
      for (const p of this.packages) this.keyIndex.set(packageKey(p), p);
    }
    return this.keyIndex.get(key);
  }
}

export function packageKey(p: Pick<Package, 'name' | 'evr' | 'arch'>): string {
  return `${p.name}-${formatEvr(p.evr)}.${p.arch}`;
}
