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
import { WizardError } from '../errors.js';
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

/** A distributed rich dependency larger than this is refused rather than expanded (real ones have a handful). */
const MAX_CLAUSES = 4096;

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

/** Disjunction of CNFs by distribution, dropping clauses that hold whatever is installed (p or not p). */
function disj(parts: Cnf[], text: string): Cnf {
  let acc: Cnf = FALSE;
  for (const part of parts) {
    const out: Cnf = [];
    for (const a of acc) {
      for (const b of part) {
        const pos = new Set([...a.pos, ...b.pos]);
        const neg = new Set([...a.neg, ...b.neg]);
        let taut = false;
        for (const p of neg) if (pos.has(p)) taut = true;
        if (!taut) out.push({ pos, neg });
        if (out.length > MAX_CLAUSES) {
          throw new WizardError(`the rich dependency ${text} expands to more than ${MAX_CLAUSES} clauses`, 2, 'the repository metadata is not what rpm writes; check where it comes from');
        }
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
function cnf(pool: Pool, r: Req, negated: boolean, text: string): Cnf {
  const atom = providers(pool, r);
  if (atom) {
    if (negated) return atom.map((p) => ({ pos: new Set<Package>(), neg: new Set([p]) }));
    return atom.length ? [{ pos: new Set(atom), neg: new Set() }] : FALSE;
  }
  const pos = (x: Req) => cnf(pool, x, false, text);
  const neg = (x: Req) => cnf(pool, x, true, text);
  switch (r.kind) {
    case 'and':
      return negated ? disj(r.args.map(neg), text) : conj(r.args.map(pos));
    case 'or':
      return negated ? conj(r.args.map(neg)) : disj(r.args.map(pos), text);
    case 'if': {
      // (A or not B) and (C or B); negated: (not A and B) or (not C and not B)
      if (!negated) return conj([disj([pos(r.then), neg(r.cond)], text), r.else ? disj([pos(r.else), pos(r.cond)], text) : TRUE]);
      const thenFails = conj([neg(r.then), pos(r.cond)]);
      return r.else ? disj([thenFails, conj([neg(r.else), neg(r.cond)])], text) : thenFails;
    }
    case 'unless': {
      // (A and not B) or (C and B); negated: (not A or B) and (not C or not B)
      if (!negated) {
        const first = conj([pos(r.then), neg(r.cond)]);
        return r.else ? disj([first, conj([pos(r.else), pos(r.cond)])], text) : first;
      }
      return conj([disj([neg(r.then), pos(r.cond)], text), r.else ? disj([neg(r.else), neg(r.cond)], text) : TRUE]);
    }
    default:
      // with/without over something other than capabilities: rpm refuses to build such a package.
      throw new WizardError(`"${r.kind}" over a rich term in ${text}`, 2, 'the repository metadata is not what rpm writes; check where it comes from');
  }
}

function rpmClauses(pool: Pool, req: Req): Clause[] {
  const text = reqToString(req);
  if (req.kind === 'cap') {
    const met = pool.whatProvides(req.cap);
    return [{ met, choices: met, neg: NONE, wanted: req.cap.name, text }];
  }
  return sortLikeLibsolv(cnf(pool, req, false, text)).map((c) => {
    const met = [...c.pos].sort((a, b) => a.id - b.id);
    return { met, choices: met, neg: c.neg.size ? [...c.neg] : NONE, wanted: null, text };
  });
}

/**
 * libsolv keeps its rules sorted (solver_unifyrules): by the literals, each
 * list in package order with the negated ones first, compared element by
 * element, a shorter list first. A requirement's clauses are tried in that
 * order, which decides which of them opens a choice first.
 */
function sortLikeLibsolv(clauses: Cnf): Cnf {
  const lits = (c: Lits) => [...[...c.neg].map((p) => -(p.id + 1)), ...[...c.pos].map((p) => p.id + 1)].sort((a, b) => a - b);
  const keyed = clauses.map((c) => ({ c, l: lits(c) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < Math.min(a.l.length, b.l.length); i++) if (a.l[i] !== b.l[i]) return a.l[i]! - b.l[i]!;
    return a.l.length - b.l.length;
  });
  return keyed.map((k) => k.c);
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

