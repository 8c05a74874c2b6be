/**
 * What the screens show, computed from state: the variant for the current
 * choices, the package rows, the closure and its sorted rows. Pure functions,
 * memoised by the controller; each is cheap enough to run on every keystroke.
 */
import Fuse from 'fuse.js';
import { WizardError } from '../errors.js';
import type { Closure, ClosurePackage } from '../packages/resolve.js';
import { dropInPackages, previewInstall, type LoadedModel } from '../mkosi/model.js';
import type { InstallSet, RemovalDecision } from '../mkosi/installset.js';
import type { Pool } from '../packages/pool.js';
import { pick } from '../variant/profiles.js';
import { suggest, type Variant } from '../variant/suggest.js';
import type { Choices, HostData, UiError } from './services.js';
import { toUiError } from './services.js';

export function deriveVariant(host: HostData, choices: Choices): { variant: Variant | null; error: UiError | null } {
  try {
    return {
      variant: suggest(host.report, host.profiles, {
        distro: host.distro,
        addProfiles: choices.addProfiles,
        dropProfiles: choices.dropProfiles,
        tweaks: { add: choices.add, remove: choices.remove },
      }),
      error: null,
    };
  } catch (err) {
    return { variant: null, error: toUiError('The variant cannot be built from these choices', err) };
  }
}

/** Identity of what a build produces: a different key means the last build is stale. */
export function variantKey(v: Variant): string {
  return JSON.stringify([v.profiles, v.packages, v.kernelModules, v.hostFiles]);
}

export interface ProfileRow {
  name: string;
  summary: string;
  selected: boolean;
  /** Selected by detection (before the user's toggles). */
  detected: boolean;
  reason: string;
  packages: number;
}

export function profileRows(host: HostData, variant: Variant | null, detected: Variant | null): ProfileRow[] {
  const rows = [...host.profiles.values()].map((p) => ({
    name: p.name,
    summary: p.summary,
    selected: variant?.profiles.includes(p.name) ?? false,
    detected: detected?.profiles.includes(p.name) ?? false,
    reason: variant?.profileReasons[p.name] ?? (detected?.profileReasons[p.name] ? `detected: ${detected.profileReasons[p.name]}` : ''),
    packages: pick(p.packages, host.distro).length,
  }));
  // base first, then what the host uses, then the rest; toggling never reorders rows under the cursor.
  const rank = (r: ProfileRow) => (r.name === 'base' ? 0 : r.detected ? 1 : 2);
  return rows.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

export interface PackageRow {
  name: string;
  /** The profile that brings it, "you" for an addition, or mkosi's own configuration. */
  origin: string;
  removed: boolean;
  /** For a removed row: what the build will really do (from the preview), when known. */
  removal?: RemovalDecision;
}

/**
 * The requested packages: the profiles', the user's, and those mkosi's own
 * configuration installs (so they can be removed, or be told why not).
 */
export function packageRows(host: HostData, variant: Variant | null, choices: Choices, removals: RemovalDecision[] = []): PackageRow[] {
  if (!variant) return [];
  const rows: PackageRow[] = [];
  const seen = new Set<string>();
  const push = (name: string, origin: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const removed = choices.remove.includes(name);
    rows.push({ name, origin, removed, ...(removed ? { removal: removals.find((r) => r.name === name) } : {}) });
  };
  for (const name of variant.profiles) {
    const p = host.profiles.get(name);
    if (!p) continue;
    for (const pkg of pick(p.packages, host.distro)) push(pkg, name);
  }
  const mk = host.mkosi;
  if (mk) {
    for (const pkg of dropInPackages({ ...variant, packages: [], tweaks: { add: [], remove: [] } }, mk)) push(pkg, `mkosi ${mk.mkosiVersion} profile`);
    // Patterns (apt regular expressions, ?exact-name()) are shown as mkosi writes them: they cannot be removed by name.
    for (const spec of mk.content.packages) if (/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(spec.spec)) push(spec.spec, `mkosi ${mk.mkosiVersion}`);
  }
  for (const pkg of choices.add) push(pkg, 'you');
  // A removal of something no row lists (a dependency, from the Closure screen) still shows, with its outcome.
  for (const name of choices.remove) push(name, 'dependency');
  return rows;
}

/** Asks for a package to go, wherever it comes from; the preview then says whether the build can remove it. */
export function removePackage(choices: Choices, name: string): Choices {
  if (choices.add.includes(name)) return { ...choices, add: choices.add.filter((n) => n !== name) };
  return choices.remove.includes(name) ? choices : { ...choices, remove: [...choices.remove, name] };
}

/** Toggles one package: a profile package is removed or restored, an addition is dropped. */
export function togglePackage(choices: Choices, row: PackageRow): Choices {
  if (row.origin !== 'you' && row.removed) return { ...choices, remove: choices.remove.filter((n) => n !== row.name) };
  return withoutPackage(choices, row.name);
}

/** The choices once the user takes a package out: one they added is un-added, one a profile asked for is removed. */
export function withoutPackage(choices: Choices, name: string): Choices {
  if (choices.add.includes(name)) return { ...choices, add: choices.add.filter((n) => n !== name) };
  return { ...choices, remove: [...choices.remove.filter((n) => n !== name), name] };
}

export function addPackage(choices: Choices, name: string): Choices {
  if (choices.remove.includes(name)) return { ...choices, remove: choices.remove.filter((n) => n !== name) };
  if (choices.add.includes(name)) return choices;
  return { ...choices, add: [...choices.add, name] };
}

export function toggleProfile(choices: Choices, row: ProfileRow): Choices {
  const without = (xs: string[]) => xs.filter((n) => n !== row.name);
  if (row.name === 'base') return choices;
  if (row.selected) {
    // Off: an added profile is simply un-added; a detected one is dropped.
    return choices.addProfiles.includes(row.name) ? { ...choices, addProfiles: without(choices.addProfiles) } : { ...choices, dropProfiles: [...without(choices.dropProfiles), row.name] };
  }
  return choices.dropProfiles.includes(row.name) ? { ...choices, dropProfiles: without(choices.dropProfiles) } : { ...choices, addProfiles: [...without(choices.addProfiles), row.name] };
}

export type ClosureView = { ok: true; closure: Closure; rows: ClosurePackage[]; ms: number; set: InstallSet & { partial: boolean } } | { ok: false; error: UiError };

/** The preview: what mkosi-initrd will install for this variant on this machine's mkosi (or the variant's own closure without one). */
export function deriveClosure(pool: Pool, model: LoadedModel | null, variant: Variant): ClosureView {
  const t = performance.now();
  try {
    const set = previewInstall(pool, model, variant);
    const closure = set.closure;
    const rows = [...closure.packages].sort((a, b) => b.installSize - a.installSize || a.name.localeCompare(b.name));
    return { ok: true, closure, rows, ms: performance.now() - t, set };
  } catch (err) {
    const e = toUiError('The package list cannot be resolved', err);
    if (!(err instanceof WizardError)) return { ok: false, error: e };
    return { ok: false, error: { ...e, hint: e.hint ?? 'remove or replace the package on the Packages screen' } };
  }
}

/** What taking one requested package out would change in the image. */
export interface WithoutIt {
  /** The requested package taken out. */
  of: string;
  /** Packages in the image now that would not be (`of` itself among them unless something else pulls it in). */
  drops: string[];
  /** Packages that would come in instead (another provider chosen once the first one's reason is gone). */
  comes: string[];
}

/**
 * The preview again for the choices without `name`, compared with the one on
 * screen: the same resolver, the same mkosi model, the same removal the
 * Packages screen would make. A reachability guess over the current set is
 * not enough: a choice between providers can go the other way once a
 * package is gone, so some packages leave and others come in. Null when that
 * preview cannot be resolved.
 */
export function withoutIt(host: HostData, choices: Choices, pool: Pool, current: Closure, name: string): WithoutIt | null {
  const { variant } = deriveVariant(host, withoutPackage(choices, name));
  if (!variant) return null;
  const next = deriveClosure(pool, host.mkosi ?? null, variant);
  if (!next.ok) return null;
  const now = new Set(current.packages.map((p) => p.name));
  const then = new Set(next.closure.packages.map((p) => p.name));
  return { of: name, drops: [...now].filter((n) => !then.has(n)), comes: [...then].filter((n) => !now.has(n)) };
}

/** The biggest contributors and the rest, for the size bar. */
export function sizeShares(rows: ClosurePackage[], top = 5): Array<{ name: string; size: number }> {
  const out = rows.slice(0, top).map((r) => ({ name: r.name, size: r.installSize }));
  const rest = rows.slice(top).reduce((n, r) => n + r.installSize, 0);
  if (rest > 0) out.push({ name: `${rows.length - top} others`, size: rest });
  return out;
}

/**
 * Fuzzy search over every package name in the metadata (tens of thousands).
 * fuse.js over 64,000 names costs 100–250 ms a keystroke, so a linear pass
 * first keeps the few hundred plausible names (substring, or the query's
 * letters in order with a typo's slack) and fuse.js ranks only those.
 */
function charMask(s: string): number {
  let m = 0;
  for (let i = 0; i < s.length; i++) m |= 1 << (s.charCodeAt(i) % 31);
  return m;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

const WORD_BREAK = new Set(['-', '.', '+', '_'].map((c) => c.charCodeAt(0)));

export class NameSearch {
  readonly names: string[];
  private readonly lower: string[];
  /** Which characters each name contains (hashed to 31 bits): a query needing absent ones is rejected at once. */
  private readonly masks: Int32Array;
  constructor(names: Iterable<string>) {
    this.names = [...new Set(names)].sort();
    this.lower = this.names.map((n) => n.toLowerCase());
    this.masks = new Int32Array(this.lower.length);
    for (let i = 0; i < this.lower.length; i++) this.masks[i] = charMask(this.lower[i]!);
  }

  /** Cheap relevance: contains the query (earlier, shorter better), else a subsequence with ≤ slack misses. */
  private candidates(q: string, keep: number): string[] {
    const slack = Math.floor(q.length / 4);
    const qMask = charMask(q);
    const scored: Array<[number, number]> = [];
    for (let i = 0; i < this.lower.length; i++) {
      if (popcount(qMask & ~this.masks[i]!) > slack) continue;
      const n = this.lower[i]!;
      const at = n.indexOf(q);
      // One or two letters say little: only names (or name parts) that start with them.
      if (q.length < 3) {
        if (at === 0 || (at > 0 && WORD_BREAK.has(n.charCodeAt(at - 1)))) scored.push([at * 4 + n.length * 0.25, i]);
        continue;
      }
      if (at >= 0) {
        scored.push([at * 4 + (n.length - q.length) * 0.25, i]);
        continue;
      }
      let j = 0;
      let misses = 0;
      let first = -1;
      let last = -1;
      for (let k = 0; k < q.length; k++) {
        const c = q.charCodeAt(k);
        let f = -1;
        for (let x = j; x < n.length; x++) if (n.charCodeAt(x) === c) { f = x; break; }
        if (f < 0) {
          if (++misses > slack) break;
          continue;
        }
        if (first < 0) first = f;
        last = f;
        j = f + 1;
      }
      if (misses <= slack && first >= 0) scored.push([1000 + misses * 100 + (last - first) + n.length * 0.25, i]);
    }
    scored.sort((a, b) => a[0] - b[0]);
    return scored.slice(0, keep).map(([, i]) => this.names[i]!);
  }

  search(query: string, limit = 200): string[] {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const pool = this.candidates(q, 800);
    if (!pool.length) return [];
    const fuse = new Fuse(pool, { threshold: 0.4, ignoreLocation: true, shouldSort: true });
    const ranked = fuse.search(q, { limit }).map((r) => r.item);
    // fuse.js may reject a candidate found by the prefilter's slack; keep those after its ranking.
    if (ranked.length < limit) for (const n of pool) if (ranked.length < limit && !ranked.includes(n)) ranked.push(n);
    return ranked;
  }
}
