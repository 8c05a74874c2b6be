/**
 * Requirements as clauses over packages, the form both solvers act on.
 *
 * rpm: a rich dependency is put in conjunctive normal form the way libsolv's
 * cplxdeps does it: `A if B` is (A or not B), `A if B else C` is
 * (A or not B) and (C or B), `A unless B` is A and not B, `A unless B else C`
 * is (A and not B) or (C and B); `with` and `without` stay single sets of
 * providers. A clause whose positive providers and negated packages overlap
 * is always true and dropped; one with neither is false.
 *
 * deb: a requirement is one clause; it is met by any alternative, and apt
 * picks from the first alternative that has a candidate.
 */
import { ExitCode, WizardError } from '../errors.js';
import { reqToString, type Req } from './deps.js';
import type { Package, Pool } from './pool.js';

export interface Clause {
  /** Packages whose presence meets the clause. */
  met: readonly Package[];
  /** Packages the solver picks from when the clause needs acting on (rpm: `met`; apt: the first installable alternative). */
  choices: readonly Package[];
  /** Negated literals: the clause holds while any of these is absent, and only asks for something once all are in. */
  neg: readonly Package[];
  /** The name apt's choice prefers (the alternative's own name). */
  wanted: string | null;
  /** The requirement as rpm or apt prints it, for messages and why-chains. */
  text: string;
}

/**
 * A rich dependency whose distribution yields more clauses than this, or
 * combines more pairs of clauses on the way (clauses that cancel out cost
 * work but leave nothing), is refused rather than expanded: real ones have a
 * handful, and a crafted one would take time quadratic in its length.
 */
const MAX_CLAUSES = 4096;
const MAX_PAIRS = 1 << 18;

const NONE: readonly Package[] = [];

/** A clause under construction: positive providers and negated packages. */
interface Lits {
  pos: Set<Package>;
  neg: Set<Package>;
}

type Cnf = Lits[];

const TRUE: Cnf = [];
const FALSE: Cnf = [{ pos: new Set(), neg: new Set() }];

function conj(parts: Cnf[]): Cnf {
  return parts.flat();
}

/** One rich dependency being expanded: its text for messages, and the pairs of clauses combined so far. */
interface Expansion {
  text: string;
  pairs: number;
}

function refuse(x: Expansion, what: string): never {
  throw new WizardError(`the rich dependency ${x.text.length > 80 ? `${x.text.slice(0, 80)}…` : x.text} ${what}`, { exit: ExitCode.badInput, hint: 'the repository metadata is not what rpm writes; check where it comes from' });
}

/** Disjunction of CNFs by distribution, dropping clauses that hold whatever is installed (p or not p). */
function disj(parts: Cnf[], x: Expansion): Cnf {
  let acc: Cnf = FALSE;
  for (const part of parts) {
    const out: Cnf = [];
    for (const a of acc) {
      for (const b of part) {
        if (++x.pairs > MAX_PAIRS) refuse(x, `takes more than ${MAX_PAIRS} steps to expand`);
        const pos = new Set([...a.pos, ...b.pos]);
        const neg = new Set([...a.neg, ...b.neg]);
        let taut = false;
        for (const p of neg) if (pos.has(p)) taut = true;
        if (!taut) out.push({ pos, neg });
        if (out.length > MAX_CLAUSES) refuse(x, `expands to more than ${MAX_CLAUSES} clauses`);
      }
    }
    acc = out;
  }
  return acc;
}

/** The set of providers of a simple term: a capability, or `with`/`without` of capabilities. */
function providers(pool: Pool, r: Req): readonly Package[] | null {
  if (r.kind === 'cap') return pool.whatProvides(r.cap);
  if (r.kind !== 'with' && r.kind !== 'without') return null;
  const sets = r.args.map((a) => providers(pool, a));
  if (sets.some((s) => s === null)) return null;
  const [first, ...rest] = sets as (readonly Package[])[];
  if (r.kind === 'with') {
    const others = rest.map((s) => new Set(s));
    return first!.filter((p) => others.every((s) => s.has(p)));
  }
  const excluded = new Set(rest.flat());
  return first!.filter((p) => !excluded.has(p));
}

/** CNF of `r`, or of its negation. */
function cnf(pool: Pool, r: Req, negated: boolean, x: Expansion): Cnf {
  const atom = providers(pool, r);
  if (atom) {
    if (negated) return atom.map((p) => ({ pos: new Set<Package>(), neg: new Set([p]) }));
    return atom.length ? [{ pos: new Set(atom), neg: new Set() }] : FALSE;
  }
  const pos = (q: Req) => cnf(pool, q, false, x);
  const neg = (q: Req) => cnf(pool, q, true, x);
  switch (r.kind) {
    case 'and':
      return negated ? disj(r.args.map(neg), x) : conj(r.args.map(pos));
    case 'or':
      return negated ? conj(r.args.map(neg)) : disj(r.args.map(pos), x);
    case 'if': {
      // (A or not B) and (C or B); negated: (not A and B) or (not C and not B)
      if (!negated) return conj([disj([pos(r.then), neg(r.cond)], x), r.else ? disj([pos(r.else), pos(r.cond)], x) : TRUE]);
      const thenFails = conj([neg(r.then), pos(r.cond)]);
      return r.else ? disj([thenFails, conj([neg(r.else), neg(r.cond)])], x) : thenFails;
    }
    case 'unless': {
      // (A and not B) or (C and B); negated: (not A or B) and (not C or not B)
      if (!negated) {
        const first = conj([pos(r.then), neg(r.cond)]);
        return r.else ? disj([first, conj([pos(r.else), pos(r.cond)])], x) : first;
      }
      return conj([disj([neg(r.then), pos(r.cond)], x), r.else ? disj([neg(r.else), neg(r.cond)], x) : TRUE]);
    }
    default:
      // with/without over something other than capabilities: rpm refuses to build such a package.
      return refuse(x, `uses "${r.kind}" over a rich term, which rpm does not build`);
  }
}

function rpmClauses(pool: Pool, req: Req): Clause[] {
  const text = reqToString(req);
  if (req.kind === 'cap') {
    const met = pool.whatProvides(req.cap);
    return [{ met, choices: met, neg: NONE, wanted: req.cap.name, text }];
  }
  return cnf(pool, req, false, { text, pairs: 0 }).map((c) => {
    const met = [...c.pos].sort((a, b) => a.id - b.id);
    return { met, choices: met, neg: c.neg.size ? [...c.neg] : NONE, wanted: null, text };
  });
}

/** apt: met by any alternative, chosen from the first alternative with a candidate. */
function debClause(pool: Pool, req: Req): Clause {
  const text = reqToString(req);
  const alternatives = req.kind === 'or' ? req.args : [req];
  const sets = alternatives.map((a) => (a.kind === 'cap' ? pool.whatProvides(a.cap) : NONE));
  const first = sets.findIndex((s) => s.length > 0);
  const alt = first < 0 ? null : alternatives[first]!;
  return {
    met: sets.length === 1 ? sets[0]! : [...new Set(sets.flat())],
    choices: first < 0 ? NONE : sets[first]!,
    neg: NONE,
    wanted: alt?.kind === 'cap' ? alt.cap.name : null,
    text,
  };
}

/** The clauses of one requirement (empty when it always holds). */
export function clausesOf(pool: Pool, req: Req): Clause[] {
  return pool.scheme === 'deb' ? [debClause(pool, req)] : rpmClauses(pool, req);
}

