/**
 * dnf5 as users of Fedora 41+ (and Debian sid, whose dnf5 package ships only
 * /usr/bin/dnf5) run it: inside a sid chroot (dnf5 5.4.6, rpm 6.1,
 * createrepo_c), with the product running inside as `node dist/bin/initrd-wizard.js`.
 *
 * The rpm-md repository is built in the chroot by its own rpmbuild and
 * createrepo_c and exercises alternatives, rich dependencies, file
 * requirements (in primary.xml and only in filelists.xml), sonames,
 * versions, obsoletes and weak dependencies.
 *   (a) `closure --packages … --repo r=/path --verify`: dnf5 is the oracle; our
 *       closure must equal its transaction ("dnf5 agrees"), and a negative control
 *       (a conflict our resolver does not model) must make them differ.
 *   (b) the same repository configured as a host repository
 *       (/etc/yum.repos.d/*.repo): `closure --packages … --distro fedora` reads it
 *       through dnf5 (the host-dnf metadata source, flavour dnf5) and gives the same
 *       closure, again agreeing with dnf5's own transaction.
 *
 * The chroot is a private copy (IW_DNF5_CHROOT, default /var/tmp/iw-dnf5-sid) of
 * the shared sid chroot, or a fresh one made by test/toolchains/make-chroot.sh.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { isRoot, CLI } from '../helpers.js';
import { ensureChroot, inChroot, type ChrootRun } from '../support/toolchain.js';
import { buildRpmRepo, type TestRpm } from '../support/rpmrepo.js';

const exec = promisify(execFile);
const ROOT = process.env.IW_DNF5_CHROOT || '/var/tmp/iw-dnf5-sid';
const skip = !isRoot ? 'needs root (chroot, mounts, dnf transactions)' : !existsSync(CLI) ? 'dist/ missing: node scripts/build.mjs' : false;

/** Where the repository lives inside the chroot, and the host repository file (b) adds. */
const REPO = '/srv/iw-dnf5-repo';
const REPO_FILE = '/etc/yum.repos.d/iw-dnf5-test.repo';

const PKGS: TestRpm[] = [
  // alternatives: two providers of a virtual capability, an (a or b), a provider already in the set
  { name: 'app-virtual', requires: ['mta'] },
  { name: 'postfix', provides: ['mta'], arch: 'x86_64', size: 4000 },
  { name: 'exim', provides: ['mta'], arch: 'x86_64' },
  { name: 'app-rich-or', requires: ['(zz-first or aa-second)'] },
  { name: 'zz-first' }, { name: 'aa-second' },
  { name: 'app-prefer-set', requires: ['zz-logger', 'logger'] },
  { name: 'zz-logger', provides: ['logger'] }, { name: 'aa-logger', provides: ['logger'] },
  // rich dependencies
  { name: 'app-rich-and', requires: ['(rich-a and rich-b)'] },
  { name: 'app-rich-if', requires: ['(plugin-x if host-x)', 'host-x'] },
  { name: 'app-rich-if-false', requires: ['(plugin-y if host-y)'] },
  { name: 'app-rich-ifelse', requires: ['(plugin-z if host-z else fallback-z)'] },
  { name: 'app-rich-with', requires: ['(kmod-thing with kmod-thing-abi >= 3)'] },
  { name: 'app-rich-without', requires: ['(tool-impl without tool-impl-broken)'] },
  { name: 'rich-a' }, { name: 'rich-b' }, { name: 'plugin-x' }, { name: 'host-x' }, { name: 'plugin-y' }, { name: 'host-y' },
  { name: 'plugin-z' }, { name: 'host-z' }, { name: 'fallback-z' },
  { name: 'kmod-thing', version: '1', provides: ['kmod-thing-abi = 2'] },
  { name: 'kmod-thing-new', provides: ['kmod-thing', 'kmod-thing-abi = 3'] },
  { name: 'tool-impl-a', provides: ['tool-impl', 'tool-impl-broken'] }, { name: 'tool-impl-b', provides: ['tool-impl'] },
  // file requirements: a path in primary.xml (/usr/bin) and one only in filelists.xml (/usr/share),
  // which dnf5 resolves only with optional_metadata_types=filelists (as mkosi configures it)
  { name: 'app-file-primary', requires: ['/usr/bin/helper-tool'] },
  { name: 'helper', files: ['/usr/bin/helper-tool'] },
  { name: 'app-file-filelists', requires: ['/usr/share/data-pkg/table.dat'] },
  { name: 'data-pkg', files: ['/usr/share/data-pkg/table.dat'] },
  // sonames and arches, versions, obsoletes
  { name: 'app-soname', arch: 'x86_64', requires: ['libfoo.so.1()(64bit)'] },
  { name: 'libfoo', arch: 'x86_64', version: '1.2', provides: ['libfoo.so.1()(64bit)'] },
  { name: 'libfoo', arch: 'i686', version: '1.2', provides: ['libfoo.so.1'] },
  { name: 'app-versioned', requires: ['libbar >= 2.0'] },
  { name: 'libbar', version: '1.5' }, { name: 'libbar', version: '2.1' }, { name: 'libbar-compat', provides: ['libbar = 1.9'] },
  { name: 'app-obsoletes', requires: ['old-name'] },
  { name: 'old-name', version: '1.0' },
  { name: 'new-name', provides: ['old-name = 2.0'], obsoletes: ['old-name < 2.0'] },
  // weak dependencies (off unless --weak, as mkosi-initrd builds)
  { name: 'app-weak', requires: ['exim'], recommends: ['weak-extra'] }, { name: 'weak-extra' },
  // negative control: libsolv must avoid aa-negmta (it conflicts with the requester); our resolver
  // does not model conflicts and takes the name-order first provider
  { name: 'app-neg', requires: ['neg-mta'] },
  { name: 'aa-negmta', provides: ['neg-mta'], conflicts: ['app-neg'] },
  { name: 'zz-negmta', provides: ['neg-mta'] },
];

const REQUESTS: string[][] = [
  ['app-virtual'], ['app-rich-or'], ['app-prefer-set'], ['app-rich-and'], ['app-rich-if'], ['app-rich-if-false'],
  ['app-rich-ifelse'], ['app-rich-with'], ['app-rich-without'], ['app-file-primary'], ['app-file-filelists'],
  ['app-soname'], ['app-versioned'], ['app-obsoletes'], ['app-weak'],
];
const ALL = ['app-virtual', 'app-rich-or', 'app-rich-ifelse', 'app-rich-with', 'app-file-primary', 'app-file-filelists', 'app-soname', 'app-obsoletes'];

/** The product inside the chroot, with a cache of its own per run (nothing carried between runs). */
let runs = 0;
const cli = (args: string[]): Promise<ChrootRun> =>
  inChroot(ROOT, ['node', 'dist/bin/initrd-wizard.js', ...args], { env: { XDG_CACHE_HOME: `/tmp/iw-dnf5-cache-${process.pid}-${runs++}` }, timeoutMs: 300_000 });
const names = (r: ChrootRun): string[] => (JSON.parse(r.stdout) as { packages: Array<{ name: string }> }).packages.map((p) => p.name).sort();
const show = (r: ChrootRun) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

before(async () => {
  if (skip) return;
  if (!existsSync(path.join(ROOT, '.initrd-wizard-ready'))) {
    // A copy of the shared sid chroot, made first when missing (about 2 minutes, once for every toolchain test).
    await exec('cp', ['-a', await ensureChroot('sid'), ROOT]);
  }
  await rm(path.join(ROOT, REPO), { recursive: true, force: true });
  await rm(path.join(ROOT, REPO_FILE), { force: true });
  await mkdir(path.join(ROOT, REPO), { recursive: true });
  await buildRpmRepo(REPO, PKGS, { root: ROOT });
});

after(async () => {
  if (skip) return;
  await rm(path.join(ROOT, REPO_FILE), { force: true });
  await rm(path.join(ROOT, REPO), { recursive: true, force: true });
  await exec('sh', ['-c', `rm -rf ${ROOT}/tmp/iw-dnf5-cache-${process.pid}-*`]);
});

test('the chroot has dnf5 (5.x) and no `dnf` command: the product must find dnf5 itself', { skip }, async () => {
  const v = await inChroot(ROOT, ['dnf5', '--version']);
  assert.match(v.stdout, /dnf5 version 5\./, show(v));
  const dnf = await inChroot(ROOT, ['sh', '-c', 'command -v dnf || echo none']);
  assert.equal(dnf.stdout.trim(), 'none', 'this test is about a host where dnf5 is the only dnf');
});

for (const request of REQUESTS) {
  test(`(a) --repo: closure of ${request.join(' ')} equals dnf5's transaction`, { skip }, async () => {
    const r = await cli(['closure', '--packages', request.join(','), '--repo', `r=${REPO}`, '--verify']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^dnf5 agrees: the same \d+ packages\.$/m, show(r));
  });
}

test('(a) --repo --weak: weak dependencies come in on both sides', { skip }, async () => {
  const r = await cli(['closure', '--packages', 'app-weak', '--repo', `r=${REPO}`, '--verify', '--weak']);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^dnf5 agrees: the same 3 packages\.$/m, show(r));
  assert.match(r.stdout, /^weak-extra /m);
});

let viaRepo: string[] = [];
test('(a) --repo: one request over alternatives, rich and file dependencies together', { skip }, async (t) => {
  const r = await cli(['closure', '--packages', ALL.join(','), '--repo', `r=${REPO}`, '--verify']);
  assert.equal(r.code, 0, show(r));
  const m = /^dnf5 agrees: the same (\d+) packages\.$/m.exec(r.stdout);
  assert.ok(m, show(r));
  t.diagnostic(m[0]);
  const j = await cli(['closure', '--packages', ALL.join(','), '--repo', `r=${REPO}`, '--json']);
  assert.equal(j.code, 0, show(j));
  viaRepo = names(j);
  assert.equal(viaRepo.length, Number(m[1]));
  // The file requirement only filelists.xml answers, and the soname's x86_64 provider.
  for (const n of ['data-pkg', 'helper', 'libfoo', 'new-name', 'kmod-thing-new']) assert.ok(viaRepo.includes(n), `${n} in ${viaRepo.join(' ')}`);
  assert.ok(!viaRepo.includes('old-name'));
});

test('(a) negative control: a conflict we do not model makes dnf5 differ, and --verify fails', { skip }, async (t) => {
  const r = await cli(['closure', '--packages', 'app-neg', '--repo', `r=${REPO}`, '--verify']);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stdout, /^dnf5 differs: only here: aa-negmta; only in dnf5: zz-negmta$/m, show(r));
  t.diagnostic(`exit ${r.code}: ${/^dnf5 differs.*$/m.exec(r.stdout)?.[0]}`);
});

test('(b) host repositories through dnf5: the same closure, and dnf5 agrees', { skip }, async (t) => {
  await mkdir(path.dirname(path.join(ROOT, REPO_FILE)), { recursive: true });
  await writeFile(path.join(ROOT, REPO_FILE), `[iw-dnf5-test]\nname=initrd-wizard dnf5 test\nbaseurl=file://${REPO}\nenabled=1\ngpgcheck=0\nmetadata_expire=0\n`);
  try {
    const r = await cli(['closure', '--packages', ALL.join(','), '--distro', 'fedora', '--verify']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Metadata: the host's repositories through dnf5 \(dnf5\)\.$/m, show(r));
    assert.match(r.stdout, new RegExp(`^dnf5 agrees: the same ${viaRepo.length || '\\d+'} packages\\.$`, 'm'), show(r));
    t.diagnostic(r.stdout.split('\n').filter((l) => /^(Metadata:|dnf5 )/.test(l)).join(' / '));
    const j = await cli(['closure', '--packages', ALL.join(','), '--distro', 'fedora', '--json']);
    assert.equal(j.code, 0, show(j));
    assert.deepEqual(names(j), viaRepo, 'the host-dnf5 metadata source gives the closure the rpm-md files give');
    // A file requirement answered by dnf5's own file-owner query, and a weak one through the host path.
    const w = await cli(['closure', '--packages', 'app-file-filelists,app-weak', '--distro', 'fedora', '--verify', '--weak']);
    assert.equal(w.code, 0, show(w));
    assert.match(w.stdout, /^dnf5 agrees: the same 5 packages\.$/m, show(w));
    // The negative control through the host path too.
    const n = await cli(['closure', '--packages', 'app-neg', '--distro', 'fedora', '--verify']);
    assert.equal(n.code, 1, show(n));
    assert.match(n.stdout, /^dnf5 differs: only here: aa-negmta; only in dnf5: zz-negmta$/m, show(n));
  } finally {
    await rm(path.join(ROOT, REPO_FILE), { force: true });
  }
});
