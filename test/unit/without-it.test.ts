/**
 * The Closure screen's "without it": what taking a requested package out
 * would really change, i.e. the preview resolved again without it, never a
 * guess from the current set's links.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/host/analyze.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { loadProfiles } from '../../src/variant/profiles.js';
import { deriveClosure, deriveVariant, withoutIt, withoutPackage, type WithoutIt } from '../../src/ui/derive.js';
import { Pool, PoolBuilder } from '../../src/packages/pool.js';
import type { Choices } from '../../src/ui/services.js';
import { fixture } from '../helpers.js';

const NO_CHOICES: Choices = { addProfiles: [], dropProfiles: [], add: [], remove: [] };
/** The profiles ask for btrfs-progs alone on this host; the user adds a second package. */
const CHOICES: Choices = { ...NO_CHOICES, add: ['extra-tool'] };

async function host() {
  const report = analyze(await loadSnapshot(fixture('btrfs-luks-tpm2-hibernate')));
  return { report, distro: { id: 'debian', version: '12', family: 'debian' as const }, kernelVersion: '6.1', profiles: await loadProfiles(), source: 't', prefsKey: 'k' };
}

/** Every requested package, plain; `first` needs xlib, `second` needs (xlib or alib): alib wins a free choice by name. */
function poolFor(requested: string[], first: string, second: string): Pool {
  const b = new PoolBuilder('rpm', 'x86_64');
  for (const name of requested) {
    b.add({ name, arch: 'x86_64', evr: '1-1', installSize: 1, repo: 't' });
    if (name === first) b.require('xlib');
    if (name === second) b.require('(xlib or alib)');
  }
  for (const name of ['xlib', 'alib']) b.add({ name, arch: 'x86_64', evr: '1-1', installSize: 1, repo: 't' });
  return new Pool({ data: b.finish() });
}

test('without a requested package, a choice it settled goes the other way: what drops out and what comes in instead are both named', async () => {
  const h = await host();
  const variant = deriveVariant(h, CHOICES).variant!;
  const [first, second] = variant.packages;
  assert.deepEqual([first, second], ['btrfs-progs', 'extra-tool']);
  const pool = poolFor(variant.packages, first!, second!);
  const view = deriveClosure(pool, null, variant);
  assert.ok(view.ok);
  assert.ok(view.closure.packages.some((p) => p.name === 'xlib') && !view.closure.packages.some((p) => p.name === 'alib'));

  // Reachability over the current set would keep xlib (second still links to it); resolving again picks alib.
  const w = withoutIt(h, CHOICES, pool, view.closure, first!)!;
  assert.deepEqual(w, { of: first, drops: [first, 'xlib'], comes: ['alib'] });
});

test('"without it" equals the closure the Packages screen\'s removal gives, for every requested row', async () => {
  const h = await host();
  const variant = deriveVariant(h, CHOICES).variant!;
  const pool = poolFor(variant.packages, variant.packages[0]!, variant.packages[1]!);
  const view = deriveClosure(pool, null, variant);
  assert.ok(view.ok);
  for (const name of variant.packages) {
    const after = deriveClosure(pool, null, deriveVariant(h, withoutPackage(CHOICES, name)).variant!);
    assert.ok(after.ok);
    const now: string[] = view.closure.packages.map((p) => p.name);
    const then: string[] = after.closure.packages.map((p) => p.name);
    const w: WithoutIt = withoutIt(h, CHOICES, pool, view.closure, name)!;
    assert.deepEqual(new Set(now.filter((n) => !w.drops.includes(n)).concat(w.comes)), new Set(then), name);
  }
});

test('taking out a package the user added un-adds it; one a profile asked for becomes a removal', () => {
  assert.deepEqual(withoutPackage({ ...NO_CHOICES, add: ['nfs-common'] }, 'nfs-common'), NO_CHOICES);
  assert.deepEqual(withoutPackage(NO_CHOICES, 'lvm2'), { ...NO_CHOICES, remove: ['lvm2'] });
});
