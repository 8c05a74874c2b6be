/**
 * Rich dependencies read as libsolv reads them, on hand-written rpm-md
 * repositories (milliseconds each). test/integration/rich-property.test.ts
 * checks the same engine against dnf on random repositories.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadPool } from '../../src/packages/metadata.js';
import { resolve, UnresolvableError } from '../../src/packages/resolve.js';
import { WizardError } from '../../src/errors.js';
import { systemRunner } from '../../src/system/run.js';
import { primaryXml, writeHandRepo, type HandPkg } from '../support/handmade-repo.js';
import { tempDir } from '../helpers.js';

const dirs: Array<() => Promise<void>> = [];
after(() => Promise.all(dirs.map((d) => d())));

async function closure(pkgs: HandPkg[], request: string[], weak = false): Promise<string[]> {
  const t = await tempDir('rich-deps-');
  dirs.push(t.cleanup);
  const dir = path.join(t.dir, 'repo');
  await writeHandRepo(dir, primaryXml(pkgs));
  const { pool } = await loadPool({ kind: 'rpm-md', repos: [{ name: 'h', dir }] }, { runner: systemRunner, cacheDir: null, arch: 'x86_64' });
  return resolve(pool, request, { weak }).packages.map((p) => p.name).sort();
}

const plain = (...names: string[]): HandPkg[] => names.map((name) => ({ name }));

test('(A if B else C) takes A when another package of the transaction brings B, even one that comes in later', async () => {
  const repo = [{ name: 'app', requires: ['(plugin if host else fallback)', 'middle'] }, { name: 'middle', requires: ['host'] }, ...plain('plugin', 'host', 'fallback')];
  assert.deepEqual(await closure(repo, ['app']), ['app', 'host', 'middle', 'plugin']);
  // Without anything bringing B, it is C.
  const alone = [{ name: 'app', requires: ['(plugin if host else fallback)'] }, ...plain('plugin', 'host', 'fallback')];
  assert.deepEqual(await closure(alone, ['app']), ['app', 'fallback']);
});

test('(A if B) binds only once B is in, whichever package brings it and however late', async () => {
  const repo = [{ name: 'app', requires: ['(plugin if host)'] }, { name: 'late', requires: ['deep'] }, { name: 'deep', requires: ['host'] }, ...plain('plugin', 'host')];
  assert.deepEqual(await closure(repo, ['app']), ['app']);
  assert.deepEqual(await closure(repo, ['app', 'late']), ['app', 'deep', 'host', 'late', 'plugin']);
});

test('(A unless B) is A without B; with B in the transaction it cannot hold, and the error says why', async () => {
  const repo = [{ name: 'app', requires: ['(tool unless legacy)'] }, ...plain('tool', 'legacy')];
  assert.deepEqual(await closure(repo, ['app']), ['app', 'tool']);
  await assert.rejects(closure(repo, ['app', 'legacy']), (err: unknown) => {
    assert.ok(err instanceof UnresolvableError);
    assert.match(err.message, /\(tool unless legacy\) \(with legacy in the set\) needed by app/);
    return true;
  });
  // (A and not B) or (C and B) is, in clauses, (A or C) and (A or B) and (C or not B): A or B is a choice,
  // decided like any other (here by name); libsolv's testsolv gives the same on this repository.
  const orElse = [{ name: 'app', requires: ['(base-tool unless legacy else legacy-tool)'] }, ...plain('base-tool', 'legacy', 'legacy-tool')];
  assert.deepEqual(await closure(orElse, ['app']), ['app', 'base-tool']);
  assert.deepEqual(await closure(orElse, ['app', 'legacy']), ['app', 'legacy', 'legacy-tool']);
});

test('and, or, with and without, nested inside conditions', async () => {
  const repo: HandPkg[] = [
    { name: 'app', requires: ['((net-a or net-b) if (host and dev))', '(kmod with kmod-abi >= 3)', '(impl without impl-broken)'] },
    { name: 'kmod-old', provides: ['kmod', 'kmod-abi = 2'] },
    { name: 'kmod-new', provides: ['kmod', 'kmod-abi = 3'] },
    { name: 'impl-a', provides: ['impl', 'impl-broken'] },
    { name: 'impl-b', provides: ['impl'] },
    ...plain('net-a', 'net-b', 'host', 'dev'),
  ];
  assert.deepEqual(await closure(repo, ['app']), ['app', 'impl-b', 'kmod-new']);
  assert.deepEqual(await closure(repo, ['app', 'host']), ['app', 'host', 'impl-b', 'kmod-new'], 'one half of the condition binds nothing');
  assert.deepEqual(await closure(repo, ['app', 'host', 'dev']), ['app', 'dev', 'host', 'impl-b', 'kmod-new', 'net-a']);
});

test('Recommends with --weak: a rich one is followed, one nothing can meet is skipped, and none without --weak', async () => {
  const repo: HandPkg[] = [{ name: 'app', recommends: ['(extra if host)', 'missing-thing', '(docs or man)'] }, ...plain('extra', 'host', 'docs', 'man')];
  assert.deepEqual(await closure(repo, ['app', 'host'], true), ['app', 'docs', 'extra', 'host']);
  assert.deepEqual(await closure(repo, ['app'], true), ['app', 'docs']);
  assert.deepEqual(await closure(repo, ['app', 'host']), ['app', 'host']);
});

test('of providers that carry the same capability at different versions, the highest is chosen (libsolv sort_by_common_dep)', async () => {
  const repo: HandPkg[] = [{ name: 'app', requires: ['backend'] }, { name: 'aa-old', provides: ['backend = 1'] }, { name: 'zz-new', provides: ['backend = 2'] }];
  assert.deepEqual(await closure(repo, ['app']), ['app', 'zz-new']);
  // Without versions, the first name wins.
  const unversioned: HandPkg[] = [{ name: 'app', requires: ['backend'] }, { name: 'aa-old', provides: ['backend'] }, { name: 'zz-new', provides: ['backend'] }];
  assert.deepEqual(await closure(unversioned, ['app']), ['aa-old', 'app']);
});

test('a choice gives way to an alternative the transaction recommends, even with weak dependencies off', async () => {
  const repo: HandPkg[] = [{ name: 'app', requires: ['backend', 'helper'] }, { name: 'helper', recommends: ['zz-backend'] }, { name: 'aa-backend', provides: ['backend'] }, { name: 'zz-backend', provides: ['backend'] }];
  assert.deepEqual(await closure(repo, ['app']), ['app', 'helper', 'zz-backend']);
});

test('a crafted rich dependency whose expansion would take quadratic time is refused (exit 2), not expanded', async () => {
  // Every pair of the two sides' 1,000 clauses cancels out (p or …) against (… or not p): a million
  // combinations that leave nothing. Refused in well under a second, with a bounded message.
  const n = 1000;
  const left = `(${Array.from({ length: n }, (_, i) => `(p or a${i})`).join(' and ')})`;
  const right = `(${Array.from({ length: n }, (_, i) => `(x${i} if p)`).join(' and ')})`;
  const repo: HandPkg[] = [{ name: 'app', requires: [`(${left} or ${right})`] }, ...plain('p', ...Array.from({ length: n }, (_, i) => `a${i}`), ...Array.from({ length: n }, (_, i) => `x${i}`))];
  const t = performance.now();
  await assert.rejects(closure(repo, ['app']), (err: unknown) => {
    assert.ok(err instanceof WizardError && !(err instanceof UnresolvableError));
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /^the rich dependency \(\(\(p or a0\).{0,80}… takes more than \d+ steps to expand$/);
    return true;
  });
  assert.ok(performance.now() - t < 5000, 'refused quickly');
  // One that distributes into too many clauses: (a1 and b1) or … (a13 and b13) is 2^13 clauses.
  const wide = Array.from({ length: 13 }, (_, i) => `(a${i} and b${i})`).join(' or ');
  await assert.rejects(closure([{ name: 'app', requires: [`(${wide})`] }, ...plain(...Array.from({ length: 13 }, (_, i) => [`a${i}`, `b${i}`]).flat())], ['app']), /expands to more than 4096 clauses/);
});
