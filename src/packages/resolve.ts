/**
 * The closure of a package request, with libsolv's choices where there is a
 * choice: requirements (as clauses, see clauses.ts) with a single candidate
 * are settled first (unit propagation), then open choices in libsolv's rule
 * order (apt: in the order they arose), each pruned like libsolv's
 * policy_filter_unwanted: best architecture, best version per name, drop
 * candidates another candidate obsoletes, prefer what the set already
 * recommends, older versions last, providers of a versioned capability
 * highest first, then the first name in strcmp order.
 */
import { WizardError } from '../errors.js';
import { capToString, reqCaps, reqToString, type Req } from './deps.js';
import { clausesOf, type Clause } from './clauses.js';
import { formatEvr, parseEvr, rpmEvrCmp, type Evr } from './version.js';
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
      { hint: needer ? 'remove the package that needs it, or add a repository that provides it' : 'check the spelling, or refresh the package metadata' },
    );
  }
}

interface Pending {
  from: Package;
  req: Req;
  clause: Clause;
  /** Which of the requirement's clauses, so a forced choice names one. */
  nth: number;
  /** A Recommends followed with --weak: skipped when nothing can meet it, as libsolv does. */
  weak: boolean;
  done: boolean;
  /** Its place in libsolv's rule order, computed when first needed. */
  key?: RuleKey;
}

/**
 * What the resolver may remember about a pool between rounds and calls:
 * everything that depends only on the metadata, never on the set being built.
 * Kept per pool and dropped when the pool's file lists grow.
 */
interface PoolMemo {
  generation: number;
  /** Each requirement's clauses (they depend on the metadata only: conditions are negated literals). */
  clauses: WeakMap<Req, Clause[]>;
  /** The policy ranking of a candidate list, by list and wanted name. */
  ranked: WeakMap<readonly Package[], Map<string | null, Package[]>>;
}

const memos = new WeakMap<Pool, PoolMemo>();

function memoOf(pool: Pool): PoolMemo {
  let m = memos.get(pool);
  if (!m || m.generation !== pool.generation) {
    m = { generation: pool.generation, clauses: new WeakMap(), ranked: new WeakMap() };
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
  if (list.length > 1) list = dislikeOldVersions(pool, list);
  if (list.length > 1) list = sortByCommonDep(pool, list);
  return list;
}

/** libsolv's dislike_old_versions: a candidate with a newer version of itself (same name and architecture) in the pool goes to the back. */
function dislikeOldVersions(pool: Pool, list: Package[]): Package[] {
  const old = (p: Package) => pool.named(p.name).some((q) => q !== p && q.arch === p.arch && pool.evrCmp(q.evr, p.evr) > 0);
  const bad = list.filter(old);
  return bad.length ? [...list.filter((p) => !bad.includes(p)), ...bad] : list;
}

/**
 * libsolv's sort_by_common_dep: candidates that provide the same capability
 * at different versions (`kernel = 6.1` against `kernel = 6.0`, `v = 3`
 * against `v = 2`) are ordered highest version first; each step down a
 * capability's versions adds to a candidate's badness, and a stable sort by
 * badness gives the order. Versions that look like hashes are ignored.
 */
function sortByCommonDep(pool: Pool, list: Package[]): Package[] {
  interface Entry {
    at: number;
    name: number;
    evr: string;
    lt: boolean;
  }
  const entries: Entry[] = [];
  list.forEach((p, at) => {
    for (const v of pool.versionedProvides(p.id)) {
      if (!v.lt && v.evr.length >= 4 && /^[0-9a-f]+$/.test(v.evr)) continue;
      entries.push({ at, ...v });
    }
  });
  if (entries.length < 2) return list;
  const evrs = new Map<string, Evr>();
  const evrOf = (t: string) => evrs.get(t) ?? evrs.set(t, parseEvr(t)).get(t)!;
  // Same capability together, highest version first; of equal versions the `=` one before the `<` one.
  const cmp = (a: Entry, b: Entry): number => {
    if (a.name !== b.name) return a.name - b.name;
    if (a.evr === b.evr && a.lt === b.lt) return 0;
    const r = rpmEvrCmp(evrOf(b.evr), evrOf(a.evr));
    if (r === 0 && (a.lt || b.lt)) return b.lt ? -1 : 1;
    return r;
  };
  entries.sort(cmp);
  const badness = new Array<number>(list.length).fill(0);
  let bad = 0;
  let any = false;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    const prev = entries[k - 1];
    if (prev && prev.name === e.name) {
      if (prev.at !== e.at && cmp(prev, e) < 0) {
        bad++;
        any = true;
      }
    } else bad = 0;
    badness[e.at]! += bad;
  }
  if (!any) return list;
  return list.map((p, at) => ({ p, at })).sort((x, y) => badness[x.at]! - badness[y.at]! || x.at - y.at).map((x) => x.p);
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

/** A choice the minimisation step made instead of policy, with the alternatives it was made among. */
interface Forced {
  pick: Package;
  alternatives: Package[];
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
 * Failing that, a choice the set does not recommend gives way to an
 * alternative it does (recommends are read even when not followed). apt has
 * no such step.
 */
export function resolve(pool: Pool, requested: string[], options: ResolveOptions = {}): Closure {
  if (pool.scheme === 'deb') return closureOf(pool, requested, resolveOnce(pool, requested, options, new Map()).state.order, options);
  const forced = new Map<string, Forced>();
  const tried = new Set<string>();
  for (let round = 0; ; round++) {
    const { decisions, state } = resolveOnce(pool, requested, options, forced);
    if (round > 200) return closureOf(pool, requested, state.order, options);
    let switched = false;
    for (let i = 0; i < decisions.length && !switched; i++) {
      const d = decisions[i]!;
      const open = (a: Package) => a !== d.chosen && !tried.has(`${d.key}\0${a.id}`);
      // An alternative installed anyway; else, when the choice is not recommended by the set, a recommended one.
      const alt = d.alternatives.find((a) => open(a) && state.has(a)) ?? (state.recommended.has(d.chosen) ? undefined : d.alternatives.find((a) => open(a) && state.recommended.has(a)));
      if (!alt) continue;
      tried.add(`${d.key}\0${alt.id}`);
      tried.add(`${d.key}\0${d.chosen.id}`);
      // Reverting to that choice undoes every later one.
      for (const later of decisions.slice(i + 1)) forced.delete(later.key);
      // The choice keeps its alternatives as first offered (libsolv's branch outlives the switch).
      forced.set(d.key, { pick: alt, alternatives: d.alternatives });
      switched = true;
    }
    if (!switched) return closureOf(pool, requested, state.order, options);
  }
}

/**
 * libsolv's place of a rule (solver_unifyrules): its literals in order, the
 * negated ones first (the requiring package among them, a later package
 * before an earlier one), then the candidates in package order. The
 * candidates are read in place: a rule may have thousands.
 */
interface RuleKey {
  neg: number[];
  met: readonly Package[];
}

function ruleKey(item: Pending): RuleKey {
  return (item.key ??= { neg: [item.from, ...item.clause.neg].map((p) => -(p.id + 1)).sort((a, b) => a - b), met: item.clause.met });
}

function keyCmp(a: RuleKey, b: RuleKey): number {
  const la = a.neg.length + a.met.length;
  const lb = b.neg.length + b.met.length;
  for (let i = 0; i < la && i < lb; i++) {
    const x = i < a.neg.length ? a.neg[i]! : a.met[i - a.neg.length]!.id + 1;
    const y = i < b.neg.length ? b.neg[i]! : b.met[i - b.neg.length]!.id + 1;
    if (x !== y) return x - y;
  }
  return la - lb;
}

/**
 * libsolv's resolve_dependencies over the open rules: a scan in rule order
 * that goes on from the last rule it acted on. First every rule that policy
 * narrows to one candidate is taken as it comes, the others postponed; after
 * a whole round without one, the scan goes back to the first postponed rule
 * and from there decides each open rule it meets, choice or not.
 */
class RuleScan {
  private cursor: RuleKey | null = null;
  private postponed: RuleKey | null = null;
  private choosing = false;

  restart(): void {
    this.cursor = null;
    this.postponed = null;
    this.choosing = false;
  }

  /** The rule to act on: `single` when policy leaves it one candidate (postponing), else a choice to decide. */
  next(rules: Pending[], single: (item: Pending) => boolean): { item: Pending; single: boolean } | null {
    if (!rules.length) return null;
    rules.sort((a, b) => keyCmp(ruleKey(a), ruleKey(b)));
    const ring = (from: RuleKey | null, inclusive: boolean): Pending[] => {
      if (!from) return rules;
      let at = rules.findIndex((r) => (inclusive ? keyCmp(ruleKey(r), from) >= 0 : keyCmp(ruleKey(r), from) > 0));
      if (at < 0) at = 0;
      return [...rules.slice(at), ...rules.slice(0, at)];
    };
    if (!this.choosing) {
      for (const item of ring(this.cursor, false)) {
        if (single(item)) {
          this.cursor = ruleKey(item);
          return { item, single: true };
        }
        this.postponed ??= ruleKey(item);
      }
      this.choosing = true;
      const item = ring(this.postponed, true)[0]!;
      this.cursor = ruleKey(item);
      return { item, single: false };
    }
    const item = ring(this.cursor, false)[0]!;
    this.cursor = ruleKey(item);
    return { item, single: false };
  }
}

function clausesFor(pool: Pool, memo: PoolMemo, req: Req): Clause[] {
  let c = memo.clauses.get(req);
  if (!c) memo.clauses.set(req, (c = clausesOf(pool, req)));
  return c;
}

/** "the requirement" for a message, naming the packages whose presence made a conditional one bind. */
function unmetText(item: Pending): string {
  const c = item.clause;
  return c.neg.length ? `${c.text} (with ${[...new Set(c.neg.map((p) => p.name))].join(', ')} in the set)` : c.text;
}

function resolveOnce(pool: Pool, requested: string[], options: ResolveOptions, forced: Map<string, Forced>): { decisions: Decision[]; state: SetState } {
  const decisions: Decision[] = [];
  const state = new SetState(pool.size);
  const pending: Pending[] = [];
  const memo = memoOf(pool);

  // Met for good: the set only grows.
  const settled = (c: Clause): boolean => state.anyOf(c, c.met);
  // Holds for now: a negated package is not in the set (yet). libsolv acts on such a clause only once all of them are in.
  const waits = (c: Clause): boolean => c.neg.length > 0 && c.neg.some((p) => !state.has(p));

  const queue = (from: Package, req: Req, weak: boolean) => {
    const clauses = clausesFor(pool, memo, req);
    for (let nth = 0; nth < clauses.length; nth++) pending.push({ from, req, clause: clauses[nth]!, nth, weak, done: false });
  };
  // What the set recommends, as libsolv's recommendsmap: the positive side of each clause of a
  // Recommends once every package it negates is in (a clause still waiting on one is kept here).
  let recsWaiting: Clause[] = [];
  const recommend = (c: Clause) => {
    for (const p of c.choices) state.recommended.add(p);
  };
  const add = (pkg: Package) => {
    if (state.has(pkg)) return;
    state.insert(pkg);
    for (const r of pkg.requires) queue(pkg, r, false);
    if (options.weak) for (const r of pkg.recommends) queue(pkg, r, true);
    if (recsWaiting.length) {
      const still: Clause[] = [];
      for (const c of recsWaiting) {
        if (waits(c)) still.push(c);
        else recommend(c);
      }
      recsWaiting = still;
    }
    for (const r of pkg.recommends) {
      for (const c of clausesFor(pool, memo, r)) {
        if (waits(c)) recsWaiting.push(c);
        else recommend(c);
      }
    }
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
  // rpm: Recommends followed with --weak are libsolv's last phase, after every Requires is met.
  let weakPhase = pool.scheme === 'deb' || !options.weak;
  const scan = new RuleScan();
  for (;;) {
    // Unit propagation: settle every clause that has exactly one way to be met.
    let progress = true;
    while (progress) {
      progress = false;
      while (start < pending.length && pending[start]!.done) start++;
      for (let i = start; i < pending.length; i++) {
        const item = pending[i]!;
        if (item.done || (item.weak && !weakPhase)) continue;
        const c = item.clause;
        if (settled(c)) {
          item.done = true;
          continue;
        }
        if (waits(c)) continue;
        if (c.choices.length === 0) {
          if (item.weak) {
            item.done = true;
            continue;
          }
          if (pool.needsFileLists && reqCaps(item.req).some((x) => x.name.startsWith('/'))) throw new FileListsNeeded();
          throw new UnresolvableError(unmetText(item), chainTo(item.from));
        }
        if (c.choices.length === 1) {
          add(c.choices[0]!);
          item.done = true;
          progress = true;
        }
      }
    }
    const isOpen = (p: Pending) => !p.done && !settled(p.clause) && !waits(p.clause) && p.clause.choices.length > 1;
    let open: Pending | undefined;
    if (pool.scheme === 'deb') {
      // apt: the first open requirement, in the order they arose.
      for (let i = start; i < pending.length && !open; i++) if (isOpen(pending[i]!)) open = pending[i];
    } else {
      const rules: Pending[] = [];
      for (let i = start; i < pending.length; i++) if (!pending[i]!.weak && isOpen(pending[i]!)) rules.push(pending[i]!);
      const next = scan.next(rules, (item) => choose(pool, item.clause.choices, state).length === 1);
      if (next && next.single) {
        add(choose(pool, next.item.clause.choices, state)[0]!);
        next.item.done = true;
        continue;
      }
      open = next?.item;
      if (!open && options.weak) {
        if (!weakPhase) {
          weakPhase = true;
          continue;
        }
        for (let i = start; i < pending.length && !open; i++) if (pending[i]!.weak && isOpen(pending[i]!)) open = pending[i];
      }
    }
    if (!open) break;
    const all = open.clause.choices;
    const key = `${open.from.id}\0${open.clause.text}\0${open.nth}`;
    const force = forced.get(key);
    const rankedChoice = force?.alternatives ?? choose(pool, all, state, open.clause.wanted);
    const pick = force && all.includes(force.pick) ? force.pick : rankedChoice[0]!;
    // A choice taken over by the minimisation step starts libsolv's rule scan afresh.
    if (force) scan.restart();
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
