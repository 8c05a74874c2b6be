/**
 * Random rpm repositories full of rich dependencies, the same for a seed on
 * every run: packages p0…pN, virtual capabilities v0…vK with versioned
 * providers, and Requires/Recommends drawn from every operator rpm accepts
 * there (and, or, if, if … else, with, without, nested). Every capability a
 * dependency names has a provider, so a difference from dnf is a difference in
 * how the dependencies are read, not in what exists. `unless` is absent:
 * rpmbuild refuses it in Requires and Recommends.
 */
import type { TestRpm } from './rpmrepo.js';
import { prng } from './handmade-repo.js';

/** The repositories both property tests check (IW_RICH_SEEDS=1,2,3 explores others). */
export const RICH_SEEDS = process.env.IW_RICH_SEEDS ? process.env.IW_RICH_SEEDS.split(',').map(Number) : [11, 23, 37];

export interface RichRepo {
  packages: TestRpm[];
  /** Requests to resolve, each with whether weak dependencies are followed. */
  requests: Array<{ packages: string[]; weak: boolean }>;
}

export interface RichRepoShape {
  packages?: number;
  virtuals?: number;
  requests?: number;
}

export function richRepo(seed: number, shape: RichRepoShape = {}): RichRepo {
  const rnd = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const chance = (p: number) => rnd() < p;
  const n = shape.packages ?? 24;
  const k = shape.virtuals ?? 6;
  const names = Array.from({ length: n }, (_, i) => `p${i}`);
  // Who provides each virtual capability, at which version (1…3).
  const providers = new Map<string, Array<{ name: string; ver: number }>>();
  for (let v = 0; v < k; v++) {
    const count = 1 + Math.floor(rnd() * 3);
    const list: Array<{ name: string; ver: number }> = [];
    for (let c = 0; c < count; c++) {
      const name = pick(names);
      if (!list.some((x) => x.name === name)) list.push({ name, ver: 1 + Math.floor(rnd() * 3) });
    }
    providers.set(`v${v}`, list);
  }
  const virtuals = [...providers.keys()];

  // A capability: a package, a virtual one, or a virtual one at a version some provider has.
  const capability = (): string => {
    const r = rnd();
    if (r < 0.5) return pick(names);
    const v = pick(virtuals);
    if (r < 0.8) return v;
    return `${v} >= ${pick(providers.get(v)!).ver}`;
  };
  // with/without take capabilities only (rpm refuses anything richer); both have a provider that fits.
  const withTerm = (): string => {
    const v = pick(virtuals);
    return `(${v} with ${v} >= ${pick(providers.get(v)!).ver})`;
  };
  const withoutTerm = (): string | null => {
    const v = pick(virtuals);
    const list = providers.get(v)!;
    if (list.length < 2) return null;
    return `(${v} without ${pick(list).name})`;
  };
  // rpm refuses an `if` right inside an `or` ("Illegal context for 'if'"): an or's operands are drawn without one.
  const expr = (depth: number, inOr = false): string => {
    if (depth === 0 || chance(0.3)) return capability();
    const sub = () => expr(depth - 1);
    const orSub = () => expr(depth - 1, true);
    const ops = inOr ? [0, 1, 4, 5] : [0, 1, 2, 3, 4, 5];
    switch (pick(ops)) {
      case 0:
        return `(${sub()} and ${sub()})`;
      case 1:
        return `(${orSub()} or ${orSub()}${chance(0.4) ? ` or ${orSub()}` : ''})`;
      case 2:
        return `(${sub()} if ${sub()})`;
      case 3:
        return `(${sub()} if ${sub()} else ${sub()})`;
      case 4:
        return withTerm();
      default:
        return withoutTerm() ?? `(${orSub()} or ${orSub()})`;
    }
  };
  // A rich dependency at the top is always parenthesised; a bare capability is a simple one.
  const dependency = (): string => expr(1 + Math.floor(rnd() * 2));

  const packages: TestRpm[] = names.map((name) => {
    const provides = virtuals.flatMap((v) => providers.get(v)!.filter((p) => p.name === name).map((p) => `${v} = ${p.ver}`));
    const requires = Array.from({ length: Math.floor(rnd() * 3) }, dependency).filter((d) => d !== name);
    const recommends = chance(0.3) ? [dependency()].filter((d) => d !== name) : [];
    return { name, provides, requires, recommends };
  });
  const count = shape.requests ?? 10;
  const requests = Array.from({ length: count }, (_, i) => ({
    packages: [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pick(names)))],
    weak: i % 3 === 2,
  }));
  return { packages, requests };
}
