/**
 * The closure of a package request, with libsolv's choices where there is a
 * choice: requirements with a single candidate are settled first (unit
 * propagation), then open choices in the order they arose, each pruned like
 * libsolv's policy_filter_unwanted: best architecture, best version per name,
 * drop candidates another candidate obsoletes, prefer what the set already
 * recommends, then the first name in strcmp order.
 */
import { WizardError } from '../errors.js';
import { capToString, reqToString, type Cap, type Req } from './deps.js';
import { formatEvr } from './version.js';
import type { Package, Pool } from './pool.js';

export interface ResolveOptions {
  /** Follow Recommends too (mkosi-initrd builds with them off). */
  weak?: boolean;
}

export interface ClosurePackage {
  name: string;
  evr: string;
  arch: string;
  installSize: number;
  /** A shortest chain: requested package, requirement, package, …, this package. */
  why: string[];
}

export interface Closure {
  resolver: 'in-process';
  requested: string[];
  count: number;
  installSize: number;
  packages: ClosurePackage[];
}

export class UnresolvableError extends WizardError {
  override readonly name = 'UnresolvableError';
  constructor(
    readonly requirement: string,
    readonly chain: string[],
  ) {
    const needer = chain.length ? chain[chain.length - 1] : null;
    super(
      needer ? `nothing provides ${requirement} needed by ${needer}${chain.length > 1 ? ` (pulled in by ${chain.slice(0, -1).filter((_, i) => i % 2 === 0).join(' → ')})` : ''}` : `no package named or providing "${requirement}"`,
      1,
      needer ? 'remove the package that needs it, or add a repository that provides it' : 'check the spelling, or refresh the package metadata',
    );
  }
}

interface Pending {
  from: Package;
  req: Req;
  done: boolean;
}

/**
 * apt's choice among providers: the real package of that name, else the
 * highest Priority (required … extra), then Essential, then name order.
 */
function chooseApt(pool: Pool, candidates: Package[], wanted: string | null): Package[] {
  const best = new Map<string, Package>();
  for (const p of candidates) {
    const b = best.get(p.name);
    if (!b || pool.evrCmp(p.evr, b.evr) > 0) best.set(p.name, p);
  }
  const list = [...best.values()];
  const named = wanted ? list.find((p) => p.name === wanted) : undefined;
  if (named) return [named];
  return list.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || Number(b.essential) - Number(a.essential) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** libsolv-like candidate ordering; the first element is the choice. */
function choose(pool: Pool, candidates: Package[], set: Set<Package>, recommended: Set<Package>, wanted: string | null = null): Package[] {
  if (pool.scheme === 'deb') return chooseApt(pool, candidates, wanted);
  let list = candidates;
  if (list.length > 1) {
    // Best architecture: native over foreign (i686); noarch/all always stays.
    const neutral = pool.scheme === 'rpm' ? 'noarch' : 'all';
    const native = list.filter((p) => p.arch === pool.arch || p.arch === neutral);
    if (native.length) list = native;
  }
  if (list.length > 1) {
    // Best version per name, names in strcmp order.
    const best = new Map<string, Package>();
    for (const p of list) {
      const b = best.get(p.name);
      if (!b || pool.evrCmp(p.evr, b.evr) > 0 || (pool.evrCmp(p.evr, b.evr) === 0 && p.arch === pool.arch && b.arch !== pool.arch)) best.set(p.name, p);
    }
    list = [...best.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => best.get(n)!);
  }
  if (list.length > 1) {
    const obsoleted = new Set<Package>();
    for (const p of list) {
      for (const o of p.obsoletes) for (const q of list) if (q !== p && q.name !== p.name && q.name === o.name && pool.capMatches({ name: q.name, op: 'EQ', evr: q.evr }, o)) obsoleted.add(q);
    }
    const kept = list.filter((p) => !obsoleted.has(p));
    if (kept.length) list = kept;
  }
  if (list.length > 1 && recommended.size) {
    const rec = list.filter((p) => recommended.has(p) && !set.has(p));
    if (rec.length) list = rec;
  }
  return list;
}

/** A choice the resolver made between several candidates. */
interface Decision {
  key: string;
  chosen: Package;
  alternatives: Package[];
}

/**
 * libsolv's minimisation step: when a solution is found, an alternative that
 * was passed over at a choice but ended up installed anyway is taken at that
 * choice instead (earliest choice first), and solving goes on from there. So
 * for `Requires: lsb-base` with lsb-base (which requires sysvinit-utils) and
 * sysvinit-utils (which provides lsb-base), dnf installs sysvinit-utils alone.
 * apt has no such step.
 */
export function resolve(pool: Pool, requested: string[], options: ResolveOptions = {}): Closure {
  if (pool.scheme === 'deb') return resolveOnce(pool, requested, options, new Map()).closure;
  const forced = new Map<string, Package>();
  const tried = new Set<string>();
  for (let round = 0; ; round++) {
    const { closure, decisions, members } = resolveOnce(pool, requested, options, forced);
    if (round > 200) return closure;
    let switched = false;
    for (let i = 0; i < decisions.length && !switched; i++) {
      const d = decisions[i]!;
      const alt = d.alternatives.find((a) => a !== d.chosen && members.has(a) && !tried.has(`${d.key}\0${a.id}`));
      if (!alt) continue;
      tried.add(`${d.key}\0${alt.id}`);
      // Reverting to that choice undoes every later one.
      for (const later of decisions.slice(i + 1)) forced.delete(later.key);
      forced.set(d.key, alt);
      switched = true;
    }
    if (!switched) return closure;
  }
}

function resolveOnce(pool: Pool, requested: string[], options: ResolveOptions, forced: Map<string, Package>): { closure: Closure; decisions: Decision[]; members: Set<Package> } {
  const decisions: Decision[] = [];
  const set = new Set<Package>();
  const order: Package[] = [];
  const pending: Pending[] = [];
  const recommended = new Set<Package>();

  const providesNow = (c: Cap): boolean => pool.whatProvides(c).some((p) => set.has(p));
  const satisfied = (r: Req): boolean => {
    switch (r.kind) {
      case 'cap':
        return providesNow(r.cap);
      case 'and':
        return r.args.every(satisfied);
      case 'or':
        return r.args.some(satisfied);
      case 'with':
        return withCandidates(r.args).some((p) => set.has(p));
      case 'without':
        return withoutCandidates(r.args).some((p) => set.has(p));
      case 'if':
        return satisfied(r.cond) ? satisfied(r.then) : r.else ? satisfied(r.else) : true;
      case 'unless':
        return !satisfied(r.cond) ? satisfied(r.then) : r.else ? satisfied(r.else) : true;
    }
  };
  const capOf = (r: Req): Cap | null => (r.kind === 'cap' ? r.cap : null);
  const withCandidates = (args: Req[]): Package[] => {
    const caps = args.map(capOf);
    if (caps.some((c) => !c)) return [];
    const [first, ...rest] = caps as Cap[];
    return pool.whatProvides(first!).filter((p) => rest.every((c) => pool.whatProvides(c).includes(p)));
  };
  const withoutCandidates = (args: Req[]): Package[] => {
    const [a, b] = args.map(capOf);
    if (!a || !b) return [];
    const excluded = new Set(pool.whatProvides(b));
    return pool.whatProvides(a).filter((p) => !excluded.has(p));
  };
  /** Packages that could satisfy an unsatisfied requirement; null when it must wait (a condition not yet decided). */
  const candidates = (r: Req): Package[] | null => {
    switch (r.kind) {
      case 'cap':
        return pool.whatProvides(r.cap);
      case 'or':
        // apt takes the first alternative that can be installed; libsolv weighs all of them.
        if (pool.scheme === 'deb') {
          for (const a of r.args) {
            const c = candidates(a);
            if (c?.length) return c;
          }
          return [];
        }
        return [...new Set(r.args.flatMap((a) => candidates(a) ?? []))];
      case 'with':
        return withCandidates(r.args);
      case 'without':
        return withoutCandidates(r.args);
      case 'and':
        return null; // split into its parts when queued
      case 'if':
        if (satisfied(r.cond)) return candidates(r.then);
        return r.else ? candidates(r.else) : null;
      case 'unless':
        if (!satisfied(r.cond)) return candidates(r.then);
        return r.else ? candidates(r.else) : null;
    }
  };

  const wantedName = (r: Req): string | null => {
    if (r.kind === 'cap') return r.cap.name;
    if (r.kind === 'or' && pool.scheme === 'deb') {
      for (const a of r.args) if ((candidates(a)?.length ?? 0) > 0) return wantedName(a);
    }
    return null;
  };
  const queue = (from: Package, req: Req) => {
    if (req.kind === 'and') for (const a of req.args) queue(from, a);
    else pending.push({ from, req, done: false });
  };
  const add = (pkg: Package) => {
    if (set.has(pkg)) return;
    set.add(pkg);
    order.push(pkg);
    for (const r of pkg.requires) queue(pkg, r);
    if (options.weak) for (const r of pkg.recommends) queue(pkg, r);
    for (const r of pkg.recommends) for (const c of candidates(r) ?? []) recommended.add(c);
  };

  for (const name of requested) {
    let cands = pool.named(name);
    if (!cands.length) cands = pool.whatProvides({ name, op: null, evr: null });
    if (!cands.length) throw new UnresolvableError(name, []);
    if (cands.some((p) => set.has(p))) continue;
    add(choose(pool, cands, set, recommended, name)[0]!);
  }

  const chainTo = (pkg: Package): string[] => whyChains(pool, requested, order, options).get(pkg.name) ?? [pkg.name];

  for (;;) {
    // Unit propagation: settle every requirement that has exactly one way to be met.
    let progress = true;
    while (progress) {
      progress = false;
      for (const item of pending) {
        if (item.done) continue;
        if (satisfied(item.req)) {
          if (item.req.kind !== 'if' && item.req.kind !== 'unless') item.done = true;
          continue;
        }
        const c = candidates(item.req);
        if (c === null) continue;
        if (c.length === 0) {
          if (item.req.kind === 'cap' && item.req.cap.name.startsWith('/') && pool.needsFileLists) {
            throw new FileListsNeeded();
          }
          throw new UnresolvableError(reqToString(item.req), chainTo(item.from));
        }
        if (c.length === 1) {
          add(c[0]!);
          item.done = true;
          progress = true;
        }
      }
    }
    // A choice: the first open requirement, decided by policy.
    const open = pending.find((p) => !p.done && !satisfied(p.req) && (candidates(p.req)?.length ?? 0) > 1);
    if (!open) break;
    const all = candidates(open.req)!;
    const key = `${open.from.id}\0${reqToString(open.req)}`;
    const ranked = choose(pool, all, set, recommended, wantedName(open.req));
    const force = forced.get(key);
    const pick = force && all.includes(force) ? force : ranked[0]!;
    decisions.push({ key, chosen: pick, alternatives: ranked });
    add(pick);
    open.done = true;
  }

  const why = whyChains(pool, requested, order, options);
  const packages = order.map((p) => ({
    name: p.name,
    evr: formatEvr(p.evr),
    arch: p.arch,
    installSize: p.installSize,
    why: why.get(p.name) ?? [p.name],
  }));
  return {
    closure: {
      resolver: 'in-process',
      requested,
      count: packages.length,
      installSize: packages.reduce((n, p) => n + p.installSize, 0),
      packages,
    },
    decisions,
    members: set,
  };
}

/** Signals that file lists must be loaded before the request can be answered. */
export class FileListsNeeded extends Error {}

/** Resolves, loading file lists first when a file requirement needs them. */
export async function resolveClosure(pool: Pool, requested: string[], options: ResolveOptions = {}): Promise<Closure> {
  try {
    return resolve(pool, requested, options);
  } catch (err) {
    if (!(err instanceof FileListsNeeded)) throw err;
    await pool.completeFiles();
    return resolve(pool, requested, options);
  }
}

interface Edge {
  to: Package;
  via: string;
}

function edgesOf(pool: Pool, pkg: Package, inSet: Set<Package>, weak: boolean): Edge[] {
  const out: Edge[] = [];
  const reqs = weak ? [...pkg.requires, ...pkg.recommends] : pkg.requires;
  const visit = (r: Req, label: string) => {
    if (r.kind === 'cap') {
      for (const q of pool.whatProvides(r.cap)) if (inSet.has(q) && q !== pkg) out.push({ to: q, via: label });
    } else if (r.kind === 'if' || r.kind === 'unless') {
      visit(r.then, label);
      if (r.else) visit(r.else, label);
    } else if ('args' in r) for (const a of r.args) visit(a, label);
  };
  for (const r of reqs) visit(r, r.kind === 'cap' ? capToString(r.cap) : reqToString(r));
  return out;
}

/** Shortest why-chains by breadth-first search from the requested packages. */
export function whyChains(pool: Pool, requested: string[], members: Package[], options: ResolveOptions = {}): Map<string, string[]> {
  const inSet = new Set(members);
  const chains = new Map<string, string[]>();
  const queue: Package[] = [];
  for (const name of requested) {
    const root = members.find((p) => p.name === name) ?? members.find((p) => pool.whatProvides({ name, op: null, evr: null }).includes(p));
    if (root && !chains.has(root.name)) {
      chains.set(root.name, [root.name]);
      queue.push(root);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const pkg = queue[i]!;
    const base = chains.get(pkg.name)!;
    for (const e of edgesOf(pool, pkg, inSet, options.weak ?? false)) {
      if (chains.has(e.to.name)) continue;
      chains.set(e.to.name, [...base, e.via, e.to.name]);
      queue.push(e.to);
    }
  }
  return chains;
}

/** Packages that only `name` pulls in: unreachable from the other requested packages once it is removed. */
export function dropsWithout(pool: Pool, closure: Closure, name: string, options: ResolveOptions = {}): string[] {
  const members = closure.packages.map((c) => pool.named(c.name).find((p) => formatEvr(p.evr) === c.evr && p.arch === c.arch)!).filter(Boolean);
  const removed = members.find((p) => p.name === name);
  if (!removed) return [];
  const rest = members.filter((p) => p !== removed);
  const reach = whyChains(pool, closure.requested.filter((r) => r !== name), rest, options);
  return [name, ...rest.filter((p) => !reach.has(p.name)).map((p) => p.name)];
}
