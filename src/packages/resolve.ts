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
import { rpmArchScore } from './arch.js';
import type { Package, Pool } from './pool.js';

export interface ResolveOptions {
  /** Follow Recommends too (mkosi-initrd builds with them off). */
  weak?: boolean;
  /**
   * Already installed by an earlier transaction (mkosi installs the
   * distribution's bootstrap set first, then the configured packages): they
   * meet requirements and are part of the result, but their own requirements
   * were settled by that transaction.
   */
  installed?: readonly Package[];
}

export interface ClosurePackage {
  name: string;
  evr: string;
  arch: string;
  installSize: number;
  /** A shortest chain: requested package, requirement, package, …, this package (built each time it is read). */
  why: string[];
}

export interface Closure {
  resolver: 'in-process';
  requested: string[];
  count: number;
  installSize: number;
  packages: ClosurePackage[];
}

/** A chain for a message: its ends, with "…" for a middle that would fill screens (the `chain` property stays whole). */
function shortened(names: string[]): string[] {
  return names.length <= 12 ? names : [...names.slice(0, 6), '…', ...names.slice(-5)];
}

export class UnresolvableError extends WizardError {
  override readonly name = 'UnresolvableError';
  constructor(
    readonly requirement: string,
    readonly chain: string[],
  ) {
    const needer = chain.length ? chain[chain.length - 1] : null;
    super(
      needer ? `nothing provides ${requirement} needed by ${needer}${chain.length > 1 ? ` (pulled in by ${shortened(chain.slice(0, -1).filter((_, i) => i % 2 === 0)).join(' → ')})` : ''}` : `no package named or providing "${requirement}"`,
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
 * What the resolver may remember about a pool between rounds and calls:
 * everything that depends only on the metadata, never on the set being built.
 * Kept per pool and dropped when the pool's file lists grow.
 */
interface PoolMemo {
  generation: number;
  /** Candidates of requirements whose candidates do not depend on the set (all but if/unless). */
  candidates: WeakMap<Req, readonly Package[] | null>;
  /** The policy ranking of a candidate list, by list and wanted name. */
  ranked: WeakMap<readonly Package[], Map<string | null, Package[]>>;
}

const memos = new WeakMap<Pool, PoolMemo>();

function memoOf(pool: Pool): PoolMemo {
  let m = memos.get(pool);
  if (!m || m.generation !== pool.generation) {
    m = { generation: pool.generation, candidates: new WeakMap(), ranked: new WeakMap() };
    memos.set(pool, m);
  }
  return m;
}

/**
 * apt's choice among providers: the real package of that name, else the
 * highest Priority (required … extra), then Essential, then name order. The
 * pool holds the native architecture and "all" only (apt's view without
 * foreign architectures), so architecture decides nothing here; a "name:any"
 * dependency names the real package "name".
 */
function chooseApt(pool: Pool, candidates: readonly Package[], wanted: string | null): Package[] {
  const best = new Map<string, Package>();
  for (const p of candidates) {
    const b = best.get(p.name);
    if (!b || pool.evrCmp(p.evr, b.evr) > 0) best.set(p.name, p);
  }
  const list = [...best.values()];
  const real = wanted?.endsWith(':any') ? wanted.slice(0, -':any'.length) : wanted;
  const named = real ? list.find((p) => p.name === real) : undefined;
  if (named) return [named];
  return list.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || Number(b.essential) - Number(a.essential) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** libsolv's policy steps that depend only on the candidates: best architecture, best version per name, obsoletes. */
function rankRpm(pool: Pool, candidates: readonly Package[]): Package[] {
  let list = [...candidates];
  // libsolv's scores: 0 noarch, 1 native, 2… older compatible (multilib), null not installable.
  const score = (p: Package) => rpmArchScore(pool.arch, p.arch);
  if (list.length > 1) {
    // Best architecture: only the best-scoring one of the candidates survives (x86_64 over i686,
    // as dnf's multilib_policy=best); noarch always stays, an uninstallable one never does.
    let top: number | null = null;
    for (const p of list) {
      const s = score(p);
      if (s !== null && s > 0 && (top === null || s < top)) top = s;
    }
    const kept = list.filter((p) => score(p) === 0 || (top !== null && score(p) === top));
    if (kept.length) list = kept;
  }
  if (list.length > 1) {
    // Best version per name, names in strcmp order; of equal versions the native one, then the better compatible one.
    const rank = (p: Package) => (score(p) || Number.MAX_SAFE_INTEGER);
    const best = new Map<string, Package>();
    for (const p of list) {
      const b = best.get(p.name);
      if (!b || pool.evrCmp(p.evr, b.evr) > 0 || (pool.evrCmp(p.evr, b.evr) === 0 && rank(p) < rank(b))) best.set(p.name, p);
    }
    list = [...best.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => best.get(n)!);
  }
  if (list.length > 1) {
    // One package per name by now: look the obsoleted name up instead of scanning the list for each obsolete.
    const byName = new Map(list.map((p) => [p.name, p]));
    const obsoleted = new Set<Package>();
    for (const p of list) {
      for (const o of p.obsoletes) {
        const q = byName.get(o.name);
        if (q && q !== p && q.name !== p.name && pool.capMatches({ name: q.name, op: 'EQ', evr: q.evr }, o)) obsoleted.add(q);
      }
    }
    const kept = list.filter((p) => !obsoleted.has(p));
    if (kept.length) list = kept;
  }
  return list;
}

function ranked(pool: Pool, candidates: readonly Package[], wanted: string | null): Package[] {
  const memo = memoOf(pool).ranked;
  const key = pool.scheme === 'deb' ? wanted : null;
  let byWanted = memo.get(candidates);
  if (!byWanted) memo.set(candidates, (byWanted = new Map()));
  let list = byWanted.get(key);
  if (!list) {
    list = pool.scheme === 'deb' ? chooseApt(pool, candidates, wanted) : rankRpm(pool, candidates);
    byWanted.set(key, list);
  }
  return list;
}

/** libsolv-like candidate ordering; the first element is the choice. */
function choose(pool: Pool, candidates: readonly Package[], state: SetState, wanted: string | null = null): Package[] {
  const list = ranked(pool, candidates, wanted);
  if (pool.scheme === 'deb') return list;
  if (list.length > 1 && state.recommended.size) {
    const rec = list.filter((p) => state.recommended.has(p) && !state.has(p));
    if (rec.length) return rec;
  }
  return list;
}

/**
 * The set being built, and which requirements it already meets. A
 * requirement's providers are checked once; if none is in the set yet, the
 * requirement waits on each of them and is marked met when one is added, so
 * a capability with thousands of providers is never rescanned.
 */
class SetState {
  readonly order: Package[] = [];
  readonly recommended = new Set<Package>();
  private readonly members: Uint8Array;
  private readonly met = new Set<object>();
  private readonly waiting = new Set<object>();
  private readonly waiters = new Map<number, object[]>();

  constructor(size: number) {
    this.members = new Uint8Array(size);
  }

  has(p: Package): boolean {
    return this.members[p.id] === 1;
  }

  /** Is one of `list` (the providers of `key`) in the set? */
  anyOf(key: object, list: readonly Package[]): boolean {
    if (this.met.has(key)) return true;
    if (this.waiting.has(key)) return false;
    for (const p of list) {
      if (this.has(p)) {
        this.met.add(key);
        return true;
      }
    }
    this.waiting.add(key);
    for (const p of list) {
      const w = this.waiters.get(p.id);
      if (w) w.push(key);
      else this.waiters.set(p.id, [key]);
    }
    return false;
  }

  insert(p: Package): void {
    this.members[p.id] = 1;
    this.order.push(p);
    const w = this.waiters.get(p.id);
    if (!w) return;
    for (const key of w) this.met.add(key);
    this.waiters.delete(p.id);
  }
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
  if (pool.scheme === 'deb') return closureOf(pool, requested, resolveOnce(pool, requested, options, new Map()).state.order, options);
  const forced = new Map<string, Package>();
  const tried = new Set<string>();
  for (let round = 0; ; round++) {
    const { decisions, state } = resolveOnce(pool, requested, options, forced);
    if (round > 200) return closureOf(pool, requested, state.order, options);
    let switched = false;
    for (let i = 0; i < decisions.length && !switched; i++) {
      const d = decisions[i]!;
      const alt = d.alternatives.find((a) => a !== d.chosen && state.has(a) && !tried.has(`${d.key}\0${a.id}`));
      if (!alt) continue;
      tried.add(`${d.key}\0${alt.id}`);
      // Reverting to that choice undoes every later one.
      for (const later of decisions.slice(i + 1)) forced.delete(later.key);
      forced.set(d.key, alt);
      switched = true;
    }
    if (!switched) return closureOf(pool, requested, state.order, options);
  }
}

/** Requirements whose candidates do not depend on what is in the set, so they can be remembered. */
function isStatic(r: Req): boolean {
  if (r.kind === 'if' || r.kind === 'unless') return false;
  if (r.kind === 'or') return r.args.every(isStatic);
  return true;
}

function resolveOnce(pool: Pool, requested: string[], options: ResolveOptions, forced: Map<string, Package>): { decisions: Decision[]; state: SetState } {
  const decisions: Decision[] = [];
  const state = new SetState(pool.size);
  const pending: Pending[] = [];
  const memo = memoOf(pool);

  const satisfied = (r: Req): boolean => {
    switch (r.kind) {
      case 'cap':
        return state.anyOf(r.cap, pool.whatProvides(r.cap));
      case 'and':
        return r.args.every(satisfied);
      case 'or':
        return r.args.some(satisfied);
      case 'with':
      case 'without':
        return state.anyOf(r, candidates(r)!);
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
    const others = rest.map((c) => new Set(pool.whatProvides(c)));
    return pool.whatProvides(first!).filter((p) => others.every((s) => s.has(p)));
  };
  const withoutCandidates = (args: Req[]): Package[] => {
    const [a, b] = args.map(capOf);
    if (!a || !b) return [];
    const excluded = new Set(pool.whatProvides(b));
    return pool.whatProvides(a).filter((p) => !excluded.has(p));
  };
  const computeCandidates = (r: Req): readonly Package[] | null => {
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
  /** Packages that could satisfy an unsatisfied requirement; null when it must wait (a condition not yet decided). */
  const candidates = (r: Req): readonly Package[] | null => {
    if (!isStatic(r)) return computeCandidates(r);
    if (memo.candidates.has(r)) return memo.candidates.get(r)!;
    const c = computeCandidates(r);
    memo.candidates.set(r, c);
    return c;
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
    if (state.has(pkg)) return;
    state.insert(pkg);
    for (const r of pkg.requires) queue(pkg, r);
    if (options.weak) for (const r of pkg.recommends) queue(pkg, r);
    for (const r of pkg.recommends) for (const c of candidates(r) ?? []) state.recommended.add(c);
  };

  for (const p of options.installed ?? []) if (!state.has(p)) state.insert(p);
  for (const name of requested) {
    let cands: readonly Package[] = pool.named(name);
    if (!cands.length) cands = pool.whatProvides({ name, op: null, evr: null });
    if (!cands.length) throw new UnresolvableError(name, []);
    if (cands.some((p) => state.has(p))) continue;
    add(choose(pool, cands, state, name)[0]!);
  }

  const chainTo = (pkg: Package): string[] => whyTree(pool, requested, state.order, options).chain(pkg.name) ?? [pkg.name];

  // Every requirement before `start` is settled; the scans below begin there.
  let start = 0;
  for (;;) {
    // Unit propagation: settle every requirement that has exactly one way to be met.
    let progress = true;
    while (progress) {
      progress = false;
      while (start < pending.length && pending[start]!.done) start++;
      for (let i = start; i < pending.length; i++) {
        const item = pending[i]!;
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
    let open: Pending | undefined;
    for (let i = start; i < pending.length && !open; i++) {
      const p = pending[i]!;
      if (!p.done && !satisfied(p.req) && (candidates(p.req)?.length ?? 0) > 1) open = p;
    }
    if (!open) break;
    const all = candidates(open.req)!;
    const key = `${open.from.id}\0${reqToString(open.req)}`;
    const rankedChoice = choose(pool, all, state, wantedName(open.req));
    const force = forced.get(key);
    const pick = force && all.includes(force) ? force : rankedChoice[0]!;
    decisions.push({ key, chosen: pick, alternatives: rankedChoice });
    add(pick);
    open.done = true;
  }
  return { decisions, state };
}

/** The closure as reported; each package's why-chain is built when read, from the breadth-first tree. */
export function closureOf(pool: Pool, requested: string[], order: readonly Package[], options: ResolveOptions): Closure {
  const tree = whyTree(pool, requested, order, options);
  const packages = order.map((p): ClosurePackage => {
    const name = p.name;
    return {
      name,
      evr: formatEvr(p.evr),
      arch: p.arch,
      installSize: p.installSize,
      // A getter, not an array per package: the chains of a deep graph together grow with the square of its depth.
      get why() {
        return tree.chain(name) ?? [name];
      },
    };
  });
  return {
    resolver: 'in-process',
    requested,
    count: packages.length,
    installSize: packages.reduce((n, p) => n + p.installSize, 0),
    packages,
  };
}

/** Signals that file lists must be loaded before the request can be answered. */
export class FileListsNeeded extends Error {}

/** Runs a resolution, loading the pool's file lists and running it again when a file requirement needs them. */
export async function withFileLists<T>(pool: Pool, run: () => T): Promise<T> {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof FileListsNeeded)) throw err;
    await pool.completeFiles();
    return run();
  }
}

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

function edgesOf(pool: Pool, pkg: Package, has: (p: Package) => boolean, weak: boolean): Edge[] {
  const out: Edge[] = [];
  const reqs = weak ? [...pkg.requires, ...pkg.recommends] : pkg.requires;
  const visit = (r: Req, label: string) => {
    if (r.kind === 'cap') {
      for (const q of pool.whatProvides(r.cap)) if (has(q) && q !== pkg) out.push({ to: q, via: label });
    } else if (r.kind === 'if' || r.kind === 'unless') {
      visit(r.then, label);
      if (r.else) visit(r.else, label);
    } else if ('args' in r) for (const a of r.args) visit(a, label);
  };
  for (const r of reqs) visit(r, r.kind === 'cap' ? capToString(r.cap) : reqToString(r));
  return out;
}

/** Shortest why-chains as a breadth-first tree over package names: each name keeps its parent and the requirement between them. */
export interface WhyTree {
  /** Names reached from the requested packages. */
  has(name: string): boolean;
  /** requested package, requirement, package, …, name; null when not reached. */
  chain(name: string): string[] | null;
}

export function whyTree(pool: Pool, requested: string[], members: readonly Package[], options: ResolveOptions = {}): WhyTree {
  const inSet = new Set(members);
  const byName = new Map<string, Package>();
  for (const p of members) if (!byName.has(p.name)) byName.set(p.name, p);
  const parent = new Map<string, { from: string; via: string } | null>();
  const queue: Package[] = [];
  for (const name of requested) {
    let root = byName.get(name);
    if (!root) {
      const providers = new Set(pool.whatProvides({ name, op: null, evr: null }));
      root = members.find((p) => providers.has(p));
    }
    if (root && !parent.has(root.name)) {
      parent.set(root.name, null);
      queue.push(root);
    }
  }
  const has = (p: Package) => inSet.has(p);
  for (let i = 0; i < queue.length; i++) {
    const pkg = queue[i]!;
    for (const e of edgesOf(pool, pkg, has, options.weak ?? false)) {
      if (parent.has(e.to.name)) continue;
      parent.set(e.to.name, { from: pkg.name, via: e.via });
      queue.push(e.to);
    }
  }
  return {
    has: (name) => parent.has(name),
    chain(name) {
      if (!parent.has(name)) return null;
      const reversed: string[] = [];
      for (let at: string | null = name; at !== null; ) {
        reversed.push(at);
        const up: { from: string; via: string } | null = parent.get(at)!;
        if (up) reversed.push(up.via);
        at = up ? up.from : null;
      }
      return reversed.reverse();
    },
  };
}

/** A closure's packages as the pool's own objects (name, version and architecture as reported). */
export function closureMembers(pool: Pool, closure: Closure): Package[] {
  return closure.packages.map((c) => pool.named(c.name).find((p) => formatEvr(p.evr) === c.evr && p.arch === c.arch)!).filter(Boolean);
}

/** Packages that only `name` pulls in: unreachable from the other requested packages once it is removed. */
export function dropsWithout(pool: Pool, closure: Closure, name: string, options: ResolveOptions = {}): string[] {
  const members = closureMembers(pool, closure);
  const removed = members.find((p) => p.name === name);
  if (!removed) return [];
  const rest = members.filter((p) => p !== removed);
  const reach = whyTree(pool, closure.requested.filter((r) => r !== name), rest, options);
  return [name, ...rest.filter((p) => !reach.has(p.name)).map((p) => p.name)];
}
