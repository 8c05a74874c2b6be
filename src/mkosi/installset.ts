/**
 * What a real mkosi-initrd build installs, computed from package metadata:
 * the distribution's bootstrap set in a transaction of its own (as mkosi
 * does), then mkosi's built-in packages, the system's drop-ins and the
 * variant's packages in a second one, then mkosi's RemovePackages= and the
 * removals the user asked for and that can really be made. Pure: a Pool and
 * the configuration in, a Closure and the decisions out.
 */
import type { Family } from '../variant/distro.js';
import { closureMembers, closureOf, resolve, type Closure } from '../packages/resolve.js';
import type { Package, Pool } from '../packages/pool.js';
import type { Req } from '../packages/deps.js';
import type { EffectiveContent, Sourced } from './builtin.js';

/**
 * The first transaction of a build, per family and mkosi version (mkosi's
 * distribution installers: Debian's `install()` downloads `?essential` and
 * base-files; 24.x added usr-is-merged; rpm distributions start from
 * basesystem or filesystem).
 */
export function bootstrapSpecs(family: Family, distribution: string, mkosiMajor: number): string[] {
  if (family === 'debian') return mkosiMajor >= 25 ? ['?essential', 'base-files'] : ['?essential', '?exact-name(usr-is-merged)', 'base-files'];
  if (family === 'fedora') return ['basesystem'];
  return ['filesystem'];
}

export interface MkosiModel {
  mkosiVersion: string;
  mkosiMajor: number;
  family: Family;
  /** mkosi's Distribution= and Release= for the build host. */
  distribution: string;
  release: string;
  /** Built-in and system configuration, without this tool's drop-in. */
  content: EffectiveContent;
  bootstrap: string[];
  /** False when the installed mkosi's resources could not be read: only the drop-in is modelled. */
  found: boolean;
  /** Where those resources are (host path): what comes from there is mkosi's own, the rest the system's drop-ins. */
  builtinDir: string | null;
}

export type Origin = 'bootstrap' | 'mkosi' | 'system' | 'variant' | 'dependency';

export interface RemovalDecision {
  name: string;
  /** not-requested: dropped from Packages=; remove-packages: written to RemovePackages=; refused: stays in the image. */
  outcome: 'not-requested' | 'remove-packages' | 'refused';
  reason: string;
}

export interface InstallSet {
  closure: Closure;
  origin: Map<string, Origin>;
  /** mkosi's own RemovePackages= (dpkg on trixie …), with what they took along. */
  removedByMkosi: Array<{ name: string; source: string }>;
  removals: RemovalDecision[];
  /** Specs that matched nothing (an ?exact-name() or a pattern with no package on this release). */
  unmatched: Sourced[];
  /** The names to write as RemovePackages= in the drop-in. */
  removePackages: string[];
}

const APT_REGEX = /[?+*|[^$]/;

/** Per pool: a selector's names, and the bootstrap transaction (the same for every variant). */
const expansions = new WeakMap<Pool, Map<string, string[]>>();
const bootstraps = new WeakMap<Pool, Map<string, { roots: string[]; closure: Closure }>>();

/** The names a package-manager argument selects: apt's patterns and regular expressions, dnf's globs, or the name. */
export function expandSpec(pool: Pool, spec: string): string[] {
  let byPool = expansions.get(pool);
  if (!byPool) expansions.set(pool, (byPool = new Map()));
  let names = byPool.get(spec);
  if (!names) byPool.set(spec, (names = expandUncached(pool, spec)));
  return names;
}

function expandUncached(pool: Pool, spec: string): string[] {
  const best = (names: Iterable<string>) => [...names].filter((n) => pool.named(n).length > 0).sort();
  if (pool.scheme === 'deb') {
    if (spec.startsWith('?')) {
      const exact = /^\?exact-name\(([^()]+)\)$/.exec(spec);
      if (exact) return pool.named(exact[1]!).length ? [exact[1]!] : [];
      // ?essential, possibly narrowed to the native architecture (mkosi 27): every Essential: yes package.
      if (/^\?essential(\s+\?architecture\([a-z0-9-]+\))?$/.test(spec)) return best([...pool.names()].filter((n) => pool.named(n).some((p) => p.essential)));
      return [];
    }
    if (APT_REGEX.test(spec)) {
      let re: RegExp;
      try {
        re = new RegExp(spec);
      } catch {
        return [];
      }
      // apt matches the expression against virtual names too (trixie's libtss2-esys-3.0.2-0 is provided by …-0t64).
      return [...pool.providedNames()].filter((n) => re.test(n) && pool.whatProvides({ name: n, op: null, evr: null }).length > 0).sort();
    }
    return [spec];
  }
  if (/[*?[]/.test(spec)) {
    const re = new RegExp(`^${spec.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return best([...pool.names()].filter((n) => re.test(n)));
  }
  return [spec];
}

function expandAll(pool: Pool, specs: Sourced[], unmatched: Sourced[]): Array<{ name: string; source: string }> {
  const out: Array<{ name: string; source: string }> = [];
  for (const s of specs) {
    const names = expandSpec(pool, s.spec);
    if (!names.length && (s.spec.startsWith('?') || APT_REGEX.test(s.spec))) unmatched.push(s);
    for (const n of names) out.push({ name: n, source: s.source });
  }
  return out;
}

/** Does some package in `members` meet this requirement? */
function met(pool: Pool, r: Req, members: Set<Package>): boolean {
  switch (r.kind) {
    case 'cap':
      return pool.whatProvides(r.cap).some((p) => members.has(p));
    case 'and':
      return r.args.every((a) => met(pool, a, members));
    case 'or':
      return r.args.some((a) => met(pool, a, members));
    case 'with':
    case 'without':
    case 'if':
    case 'unless':
      // Rich dependencies: a removal test that cannot be sure says "still met" and keeps the package.
      return true;
  }
}

/**
 * What removing `names` takes along, as apt purge and dnf remove do: every
 * package with a requirement nothing else left meets, repeatedly. Returns
 * the packages removed (the named ones first) and, for each, what broke.
 */
function removalClosure(pool: Pool, members: Package[], names: string[]): Map<Package, string> {
  const gone = new Map<Package, string>();
  for (const p of members) if (names.includes(p.name)) gone.set(p, 'removed');
  for (let changed = true; changed; ) {
    changed = false;
    const left = new Set(members.filter((p) => !gone.has(p)));
    for (const p of left) {
      const broken = p.requires.find((r) => !met(pool, r, left));
      if (broken) {
        gone.set(p, `needs what was removed`);
        changed = true;
      }
    }
  }
  return gone;
}

export interface PlanOptions {
  /** The drop-in's Packages= (the variant's, see dropInPackages). */
  packages: string[];
  /** The user's removals. */
  remove: string[];
}

export function planInstallSet(pool: Pool, model: MkosiModel, opts: PlanOptions): InstallSet {
  const unmatched: Sourced[] = [];
  const origin = new Map<string, Origin>();
  // Transaction 1: the bootstrap set, as mkosi's distribution installer asks for it.
  const roots1 = expandAll(pool, model.bootstrap.map((spec) => ({ spec, source: 'bootstrap' })), unmatched).map((x) => x.name);
  let byPool = bootstraps.get(pool);
  if (!byPool) bootstraps.set(pool, (byPool = new Map()));
  const key = roots1.join('\0');
  let cached = byPool.get(key);
  if (!cached) byPool.set(key, (cached = { roots: roots1, closure: resolve(pool, roots1) }));
  const first = cached.closure;
  for (const p of first.packages) origin.set(p.name, 'bootstrap');
  const installed = closureMembers(pool, first);

  // Transaction 2: configuration order — mkosi's resources, the system's drop-ins, then ours.
  const configured = expandAll(pool, model.content.packages, unmatched);
  const variantNames = opts.packages.flatMap((s) => expandSpec(pool, s));
  const roots2 = [...configured.map((c) => c.name), ...variantNames];
  const second = resolve(pool, roots2, { installed });
  const resolvedMembers = closureMembers(pool, second);
  for (const c of configured) if (!origin.has(c.name)) origin.set(c.name, model.builtinDir && c.source.startsWith(model.builtinDir + '/') ? 'mkosi' : 'system');
  for (const n of variantNames) if (!origin.has(n)) origin.set(n, 'variant');
  for (const p of resolvedMembers) if (!origin.has(p.name)) origin.set(p.name, 'dependency');

  // mkosi's own RemovePackages= (apt purge / dnf remove, dependents included).
  const mkosiRemove = expandAll(pool, model.content.removePackages, unmatched);
  let members = resolvedMembers;
  const removedByMkosi: InstallSet['removedByMkosi'] = [];
  if (mkosiRemove.length) {
    const gone = removalClosure(pool, members, mkosiRemove.map((r) => r.name));
    for (const p of gone.keys()) removedByMkosi.push({ name: p.name, source: mkosiRemove.find((r) => r.name === p.name)?.source ?? `with ${mkosiRemove.map((r) => r.name).join(', ')}` });
    members = members.filter((p) => !gone.has(p));
  }

  // The user's removals: only what leaves everything else installed.
  const removals: RemovalDecision[] = [];
  const removePackages: string[] = [];
  const present = new Map(members.map((p) => [p.name, p]));
  for (const name of opts.remove) {
    const p = present.get(name);
    if (!p) {
      removals.push({ name, outcome: 'not-requested', reason: 'not in the image any more: no longer requested' });
      continue;
    }
    const o = origin.get(name) ?? 'dependency';
    if (p.essential) {
      removals.push({ name, outcome: 'refused', reason: `${name} is Essential in this distribution (${originText(o)}): dpkg and apt refuse to remove it` });
      continue;
    }
    const gone = removalClosure(pool, members, [name]);
    const others = [...gone.keys()].filter((q) => q !== p).map((q) => q.name);
    if (others.length) {
      const needers = members.filter((q) => q !== p && q.requires.some((r) => !met(pool, r, new Set(members.filter((m) => m !== p))))).map((q) => q.name);
      removals.push({ name, outcome: 'refused', reason: `${needers.slice(0, 3).join(', ')}${needers.length > 3 ? ` and ${needers.length - 3} more` : ''} need${needers.length === 1 ? 's' : ''} it: removing it would remove ${others.length} more package${others.length === 1 ? '' : 's'}` });
      continue;
    }
    removals.push({ name, outcome: 'remove-packages', reason: `${originText(o)}: removed after installation (RemovePackages=)` });
    removePackages.push(name);
    members = members.filter((q) => q !== p);
  }

  const closure = closureOf(pool, [...roots1, ...roots2], members, {});
  return { closure, origin, removedByMkosi, removals, unmatched, removePackages };
}


function originText(o: Origin): string {
  switch (o) {
    case 'bootstrap':
      return "part of the distribution's bootstrap set that mkosi installs first";
    case 'mkosi':
      return "listed in mkosi-initrd's built-in configuration";
    case 'system':
      return 'listed in a drop-in under /usr/lib, /run or /etc/mkosi-initrd';
    case 'variant':
      return 'requested by the profiles';
    case 'dependency':
      return 'pulled in as a dependency';
  }
}
