/**
 * Version ordering as rpm (rpmvercmp) and dpkg define it. Both are exact
 * re-statements of the distro algorithms, because a different answer on one
 * odd version string changes which provider the resolver picks.
 */

export interface Evr {
  epoch: number;
  version: string;
  /** null when not given (a requirement without release matches any release). */
  release: string | null;
}

const isDigit = (c: string) => c >= '0' && c <= '9';
const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlnum = (c: string) => isDigit(c) || isAlpha(c);

/** rpm's segment-wise comparison: -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]!) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]!) && b[j] !== '~' && b[j] !== '^') j++;
    const ca = a[i] ?? '';
    const cb = b[j] ?? '';
    // "~" sorts before everything, even the end of the string (1.0~rc1 < 1.0).
    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // "^" sorts after the end of the string but before anything else (1.0 < 1.0^git1 < 1.0.1).
    if (ca === '^' || cb === '^') {
      if (!ca) return -1;
      if (!cb) return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!ca || !cb) break;
    const numeric = isDigit(ca);
    const test = numeric ? isDigit : isAlpha;
    let ei = i;
    while (ei < a.length && test(a[ei]!)) ei++;
    let ej = j;
    while (ej < b.length && test(b[ej]!)) ej++;
    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (!sa) return -1; // cannot happen for a (it starts with a matching char); kept for rpm parity
    if (!sb) return numeric ? 1 : -1; // numeric segments are newer than alphabetic ones
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ei;
    j = ej;
  }
  const restA = i < a.length;
  const restB = j < b.length;
  if (!restA && !restB) return 0;
  return restA ? 1 : -1;
}

/** "[epoch:]version[-release]" → Evr. */
export function parseEvr(s: string): Evr {
  let rest = s.trim();
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon > 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = Number(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash > 0) return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
  return { epoch, version: rest, release: null };
}

export function formatEvr(e: Evr): string {
  return `${e.epoch ? `${e.epoch}:` : ''}${e.version}${e.release !== null ? `-${e.release}` : ''}`;
}

/** rpm EVR order; a missing release on either side is not compared (as rpm does for requirements). */
export function rpmEvrCmp(a: Evr, b: Evr): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === null || b.release === null) return 0;
  return rpmvercmp(a.release, b.release);
}

// dpkg: letters sort before non-letters, "~" before everything including the end.
function dpkgOrder(c: string | undefined): number {
  if (c === undefined || c === '') return 0;
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

function dpkgVerrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i]!)) || (j < b.length && !isDigit(b[j]!))) {
      const ac = dpkgOrder(i < a.length && !isDigit(a[i]!) ? a[i] : undefined);
      const bc = dpkgOrder(j < b.length && !isDigit(b[j]!) ? b[j] : undefined);
      if (ac !== bc) return ac - bc < 0 ? -1 : 1;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && isDigit(a[i]!) && j < b.length && isDigit(b[j]!)) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a[i]!)) return 1;
    if (j < b.length && isDigit(b[j]!)) return -1;
    if (firstDiff) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

export function dpkgEvrCmp(a: Evr, b: Evr): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const v = dpkgVerrevcmp(a.version, b.version);
  if (v !== 0) return v;
  return dpkgVerrevcmp(a.release ?? '', b.release ?? '');
}

export type VersionScheme = 'rpm' | 'deb';

export function evrCmp(scheme: VersionScheme, a: Evr, b: Evr): number {
  return scheme === 'rpm' ? rpmEvrCmp(a, b) : dpkgEvrCmp(a, b);
}
