/**
 * Our in-process closure against dnf's own transaction, on real rpm-md
 * repositories built by the test with rpmbuild + createrepo_c.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildRpmRepo, type TestRpm } from '../support/rpmrepo.js';
import { tempDir, isRoot } from '../helpers.js';
import { loadRpmRepos } from '../../src/packages/rpmmd.js';
import { Pool } from '../../src/packages/pool.js';
import { resolveClosure, UnresolvableError } from '../../src/packages/resolve.js';
import { dnfTransaction } from '../../src/packages/verify.js';
import { systemRunner } from '../../src/system/run.js';

const haveTools = ['rpmbuild', 'createrepo_c', 'dnf'].every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);
const skip = !haveTools ? 'rpmbuild, createrepo_c or dnf missing (apt-get install rpm createrepo-c dnf)' : !isRoot ? 'dnf transactions need root' : false;

const REPO: TestRpm[] = [
  // virtual provides, two providers of one capability
  { name: 'app-virtual', requires: ['mta'] },
  { name: 'postfix', provides: ['mta'], arch: 'x86_64', size: 4000 },
  { name: 'exim', provides: ['mta'], arch: 'x86_64' },
  // soname provides
  { name: 'app-soname', arch: 'x86_64', requires: ['libfoo.so.1()(64bit)'] },
  { name: 'libfoo', arch: 'x86_64', version: '1.2', provides: ['libfoo.so.1()(64bit)'] },
  { name: 'libfoo', arch: 'i686', version: '1.2', provides: ['libfoo.so.1'] },
  // versioned requires that exclude an older provider
  { name: 'app-versioned', requires: ['libbar >= 2.0'] },
  { name: 'libbar', version: '1.5' },
  { name: 'libbar', version: '2.1' },
  { name: 'libbar-compat', provides: ['libbar = 1.9'] },
  // file dependencies: in primary (/usr/bin) and only in filelists (/usr/share)
  { name: 'app-file-primary', requires: ['/usr/bin/helper-tool'] },
  { name: 'helper', files: ['/usr/bin/helper-tool'] },
  { name: 'app-file-filelists', requires: ['/usr/share/data-pkg/table.dat'] },
  { name: 'data-pkg', files: ['/usr/share/data-pkg/table.dat'] },
  // rich dependencies
  { name: 'app-rich-and', requires: ['(rich-a and rich-b)'] },
  { name: 'app-rich-or', requires: ['(zz-first or aa-second)'] },
  { name: 'app-rich-if', requires: ['(plugin-x if host-x)', 'host-x'] },
  { name: 'app-rich-if-false', requires: ['(plugin-y if host-y)'] },
  { name: 'app-rich-ifelse', requires: ['(plugin-z if host-z else fallback-z)'] },
  { name: 'app-rich-with', requires: ['(kmod-thing with kmod-thing-abi >= 3)'] },
  { name: 'app-rich-without', requires: ['(tool-impl without tool-impl-broken)'] },
  { name: 'rich-a' }, { name: 'rich-b' }, { name: 'zz-first' }, { name: 'aa-second' },
  { name: 'plugin-x' }, { name: 'host-x' }, { name: 'plugin-y' }, { name: 'host-y' },
  { name: 'plugin-z' }, { name: 'host-z' }, { name: 'fallback-z' },
  { name: 'kmod-thing', version: '1', provides: ['kmod-thing-abi = 2'] },
  { name: 'kmod-thing-new', provides: ['kmod-thing', 'kmod-thing-abi = 3'] },
  { name: 'tool-impl-a', provides: ['tool-impl', 'tool-impl-broken'] },
  { name: 'tool-impl-b', provides: ['tool-impl'] },
  // cycles
  { name: 'cycle-a', requires: ['cycle-b'] }, { name: 'cycle-b', requires: ['cycle-c'] }, { name: 'cycle-c', requires: ['cycle-a'] },
  // obsoletes: the replacement wins over the old name
  { name: 'app-obsoletes', requires: ['old-name'] },
  { name: 'old-name', version: '1.0' },
  { name: 'new-name', provides: ['old-name = 2.0'], obsoletes: ['old-name < 2.0'] },
  // a provider already in the set wins
  { name: 'app-prefer-set', requires: ['zz-logger', 'logger'] },
  { name: 'zz-logger', provides: ['logger'] },
  { name: 'aa-logger', provides: ['logger'] },
  // libsolv's minimisation: a passed-over alternative that gets installed anyway is taken instead
  { name: 'app-minimize', requires: ['lsb-base'] },
  { name: 'lsb-base', version: '11.6', requires: ['sysvinit-utils >= 3.05'] },
  { name: 'sysvinit-utils', version: '3.06', provides: ['lsb-base = 11.1.0'] },
  { name: 'app-no-minimize', requires: ['cap3'] },
  { name: 'bbb', provides: ['cap3'], requires: ['ccc'] }, { name: 'ccc' }, { name: 'ddd', provides: ['cap3'] },
  // unresolvable
  { name: 'app-broken', requires: ['does-not-exist >= 1'] },
  { name: 'app-needs-broken', requires: ['app-broken'] },
  // weak dependencies are off by default
  { name: 'app-weak', recommends: ['weak-extra'] }, { name: 'weak-extra' },
];

let repoDir = '';
let cleanup: () => Promise<void> = async () => {};
let pool: Pool;

before(async () => {
  if (skip) return;
  const t = await tempDir('iw-rpmrepo-');
  cleanup = t.cleanup;
  repoDir = path.join(t.dir, 'repo');
  await buildRpmRepo(repoDir, REPO);
  pool = new Pool((await loadRpmRepos([{ name: 'test', dir: repoDir }])).source);
});
after(() => cleanup());

const REQUESTS: string[][] = [
  ['app-virtual'], ['app-soname'], ['app-versioned'], ['app-file-primary'], ['app-file-filelists'],
  ['app-rich-and'], ['app-rich-or'], ['app-rich-if'], ['app-rich-if-false'], ['app-rich-ifelse'], ['app-rich-with'],
  ['app-rich-without'], ['cycle-a'], ['app-obsoletes'], ['app-prefer-set'], ['app-weak'], ['app-minimize'], ['app-no-minimize'],
  ['app-virtual', 'app-soname', 'app-rich-or', 'app-obsoletes', 'cycle-b'],
];

for (const request of REQUESTS) {
  test(`closure of ${request.join(' ')} equals dnf's transaction`, { skip }, async () => {
    const ours = (await resolveClosure(pool, request)).packages.map((p) => p.name).sort();
    const dnf = await dnfTransaction(systemRunner, [{ name: 'test', dir: repoDir }], request);
    assert.deepEqual(ours, dnf.packages);
  });
}

test('why-chains alternate packages and the requirements that pulled them in', { skip }, async () => {
  const closure = await resolveClosure(pool, ['app-soname']);
  const lib = closure.packages.find((p) => p.name === 'libfoo')!;
  assert.deepEqual(lib.why, ['app-soname', 'libfoo.so.1()(64bit)', 'libfoo']);
  assert.equal(lib.arch, 'x86_64', 'no i686 when x86_64 provides');
  assert.equal(lib.evr, '1.2-1');
  assert.deepEqual(closure.packages.find((p) => p.name === 'app-soname')!.why, ['app-soname']);
  const v = await resolveClosure(pool, ['app-virtual']);
  assert.ok(v.installSize >= 4000 || v.packages.every((p) => p.name !== 'postfix'));
});

test('an unresolvable request names the missing requirement and the chain, like dnf', { skip }, async () => {
  await assert.rejects(resolveClosure(pool, ['app-needs-broken']), (err: unknown) => {
    assert.ok(err instanceof UnresolvableError);
    assert.match(err.message, /nothing provides does-not-exist >= 1 needed by app-broken/);
    assert.match(err.message, /app-needs-broken/);
    return true;
  });
  await assert.rejects(resolveClosure(pool, ['no-such-package']), /no package named or providing "no-such-package"/);
});

test('weak dependencies come in only when asked for', { skip }, async () => {
  const off = await resolveClosure(pool, ['app-weak']);
  const on = await resolveClosure(pool, ['app-weak'], { weak: true });
  assert.deepEqual(off.packages.map((p) => p.name), ['app-weak']);
  assert.deepEqual(on.packages.map((p) => p.name).sort(), ['app-weak', 'weak-extra']);
  const dnf = await dnfTransaction(systemRunner, [{ name: 'test', dir: repoDir }], ['app-weak'], { weak: true });
  assert.deepEqual(dnf.packages, ['app-weak', 'weak-extra']);
});
