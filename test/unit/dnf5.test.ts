/**
 * dnf5 (and dnf4) output as the product reads it. Every fixture string below is real output,
 * captured on 2026-12-01 and pasted unchanged:
 *   dnf5 5.4.6 / rpm 6.1 in a Debian sid chroot (a copy of /var/tmp/tc-sid, made by
 *   test/toolchains/make-chroot.sh), over an rpm-md repository built there by
 *   test/support/rpmrepo.ts (buildRpmRepo(…, { root })) with rpmbuild + createrepo_c:
 *     dnf5 --setopt=reposdir=/dev/null --setopt=optional_metadata_types=filelists \
 *       --repofrompath=y,/srv/y --repo=y --setopt=y.gpgcheck=0 --no-plugins --installroot=ROOT … install --assumeno …
 *   and dnf 4.14.0 on this Debian 12 host over the same repository (`dnf -c CONF --releasever=39 …`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDnfTransaction, dnfTransaction, dnfTransactionArgv } from '../../src/packages/verify.js';
import { detectDnf, parseDnfVersion, parseDnfDump, loadDnfMetadata, QUERY_FORMAT } from '../../src/packages/dnf.js';
import { PoolBuilder, Pool } from '../../src/packages/pool.js';
import { resolveClosure } from '../../src/packages/resolve.js';
import { CommandNotFoundError, type Runner, type RunResult } from '../../src/system/run.js';
import { isRoot } from '../helpers.js';

/** dnf5, empty root, install_weak_deps=True: `install --assumeno app-weak a-very-long-…-table app-file-filelists` (stdout; exit 1). */
const DNF5_WEAK = `Package                                                      Arch   Version Repository      Size
Installing:
 a-very-long-package-name-that-wraps-the-column-of-the-table noarch 0:1.0-1 y            0.0   B
 app-file-filelists                                          noarch 0:1.0-1 y            0.0   B
 app-weak                                                    noarch 2:1.0-1 y            0.0   B
Installing dependencies:
 app-virtual                                                 noarch 0:1.0-1 y            0.0   B
 data-pkg                                                    noarch 0:1.0-1 y            0.0   B
 exim                                                        x86_64 0:1.0-1 y            1.4 MiB
Installing weak dependencies:
 weak-extra                                                  noarch 0:1.0-1 y            0.0   B

Transaction Summary:
 Installing:         7 packages

`;

/** dnf5, a root holding old-name 1.0 (installed with rpm -i): `install --assumeno new-name app-virtual`; new-name obsoletes old-name. */
const DNF5_REPLACING = `Package               Arch   Version Repository      Size
Installing:
 app-virtual          noarch 0:1.0-1 y            0.0   B
 new-name             noarch 0:1.0-1 y            0.0   B
   replacing old-name noarch 0:1.0-1 <unknown>    0.0   B
Installing dependencies:
 exim                 x86_64 0:1.0-1 y            1.4 MiB

Transaction Summary:
 Installing:         3 packages
 Replacing:          1 package

`;

/** dnf5, empty root: `install --assumeno app-broken app-virtual` (stdout empty, this on stderr; exit 1). */
const DNF5_FAILED_STDERR = `Updating and loading repositories:
 y                                      100% | 207.4 KiB/s |   5.4 KiB |  00m00s
Repositories loaded.
Failed to resolve the transaction:
Problem: conflicting requests
  - nothing provides does-not-exist >= 1 needed by app-broken-1.0-1.noarch from y
You can try to add to command line:
  --skip-broken to skip uninstallable packages
`;

/** dnf 4.14.0 on the host, same request as DNF5_WEAK (stdout; exit 1). */
const DNF4_WEAK = `Added y repo from /var/tmp/dnf-sid/srv/y
y                                               7.4 kB/s | 2.3 kB     00:00    
Dependencies resolved.
=======================================================================================
 Package                                                       Arch    Version Repo
                                                                                   Size
=======================================================================================
Installing:
 a-very-long-package-name-that-wraps-the-column-of-the-table   noarch  1.0-1   y  6.0 k
 app-file-filelists                                            noarch  1.0-1   y  5.9 k
 app-weak                                                      noarch  2:1.0-1 y  5.9 k
Installing dependencies:
 app-virtual                                                   noarch  1.0-1   y  5.8 k
 data-pkg                                                      noarch  1.0-1   y  6.3 k
 exim                                                          x86_64  1.0-1   y  6.4 k
Installing weak dependencies:
 weak-extra                                                    noarch  1.0-1   y  5.8 k

Transaction Summary
=======================================================================================
Install  7 Packages

Total size: 42 k
Installed size: 1.4 M
`;

/** The first lines of `dnf5 --version` (5.4.6 in sid). */
const DNF5_VERSION = 'dnf5 version 5.4.6.0\ndnf5 plugin API version 2.0\nlibdnf5 version 5.4.6.0\nlibdnf5 plugin API version 2.2\n\nLoaded dnf5 plugins:\n  name: automatic\n';

/** dnf5 `repoquery --available --queryformat QUERY_FORMAT app-weak new-name exim` over the same repository. */
const DNF5_DUMP = `@@IW-PKG@@
app-weak
2
1.0
1
noarch
0
y
@@IW-PROVIDES@@
app-weak = 2:1.0-1

@@IW-REQUIRES@@

@@IW-RECOMMENDS@@
weak-extra

@@IW-OBSOLETES@@

@@IW-END@@
@@IW-PKG@@
exim
0
1.0
1
x86_64
1500000
y
@@IW-PROVIDES@@
mta
exim = 1.0-1
exim(x86-64) = 1.0-1

@@IW-REQUIRES@@

@@IW-RECOMMENDS@@

@@IW-OBSOLETES@@

@@IW-END@@
@@IW-PKG@@
new-name
0
1.0
1
noarch
0
y
@@IW-PROVIDES@@
new-name = 1.0-1
old-name = 2.0

@@IW-REQUIRES@@

@@IW-RECOMMENDS@@

@@IW-OBSOLETES@@
old-name < 2.0

@@IW-END@@
`;

test('dnf5\'s transaction table: requested, dependencies and weak dependencies; the summary is not a row', () => {
  assert.deepEqual(parseDnfTransaction(DNF5_WEAK), [
    'a-very-long-package-name-that-wraps-the-column-of-the-table', 'app-file-filelists', 'app-virtual', 'app-weak', 'data-pkg', 'exim', 'weak-extra',
  ]);
});

test('dnf5\'s "replacing" rows name the package going away, not one being installed', () => {
  assert.deepEqual(parseDnfTransaction(DNF5_REPLACING), ['app-virtual', 'exim', 'new-name']);
});

test('dnf4\'s table of the same request gives the same names', () => {
  assert.deepEqual(parseDnfTransaction(DNF4_WEAK), parseDnfTransaction(DNF5_WEAK));
  assert.deepEqual(parseDnfTransaction(''), []);
});

test('dnf --version tells dnf5 from dnf4', () => {
  assert.deepEqual(parseDnfVersion(DNF5_VERSION), { flavor: 'dnf5', version: '5.4.6.0' });
  assert.deepEqual(parseDnfVersion('4.14.0\n'), { flavor: 'dnf4', version: '4.14.0' });
});

/** A runner that knows some commands: `--version` prints the given text; anything else answers `other`. */
function fakeRunner(versions: Record<string, string>, other: (argv: string[]) => Partial<RunResult> = () => ({})): Runner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: async (argv) => {
      calls.push(argv);
      if (!(argv[0]! in versions)) throw new CommandNotFoundError(argv);
      const r = argv[1] === '--version' ? { stdout: versions[argv[0]!]! } : other(argv);
      return { argv, exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...r };
    },
  };
}

test('detection follows mkosi: dnf5 when installed, else dnf (whichever it is), else nothing', async () => {
  assert.deepEqual(await detectDnf(fakeRunner({ dnf5: DNF5_VERSION })), { command: 'dnf5', flavor: 'dnf5', version: '5.4.6.0' });
  assert.deepEqual(await detectDnf(fakeRunner({ dnf: '4.14.0\n' })), { command: 'dnf', flavor: 'dnf4', version: '4.14.0' });
  // Fedora 40 with both: mkosi takes dnf5.
  assert.equal((await detectDnf(fakeRunner({ dnf: '4.19.0\n', dnf5: DNF5_VERSION })))?.command, 'dnf5');
  // Only a `dnf` that is dnf5 (a wrapper, say): called as dnf, spelled as dnf5.
  assert.deepEqual(await detectDnf(fakeRunner({ dnf: DNF5_VERSION })), { command: 'dnf', flavor: 'dnf5', version: '5.4.6.0' });
  assert.equal(await detectDnf(fakeRunner({})), null);
});

test('dnf5\'s transaction into an empty root: the host\'s configuration with --use-host-config, file lists as mkosi loads them', () => {
  const dnf5 = { flavor: 'dnf5' as const, command: 'dnf5' };
  const host = dnfTransactionArgv(dnf5, '/t/root', '/t', '/t/dnf.conf', [], ['a'], { hostRepos: true });
  assert.deepEqual(host, ['dnf5', '--installroot=/t/root', '--use-host-config', '--setopt=install_weak_deps=False', '--setopt=optional_metadata_types=filelists', 'install', '--assumeno', 'a']);
  const repo = dnfTransactionArgv(dnf5, '/t/root', '/t', '/t/dnf.conf', [{ name: 'r', dir: '/srv/r' }], ['a', 'b'], { weak: true });
  assert.ok(repo.includes('--config=/t/dnf.conf') && repo.includes('--no-plugins') && repo.includes('--setopt=install_weak_deps=True'), repo.join(' '));
  assert.ok(repo.includes('--repofrompath=r,/srv/r') && repo.includes('--repo=r') && repo.includes('--setopt=optional_metadata_types=filelists'), repo.join(' '));
  assert.ok(!repo.includes('--use-host-config'), 'a private configuration, not the host\'s');
  // dnf4 keeps its spellings.
  const four = dnfTransactionArgv({ flavor: 'dnf4', command: 'dnf' }, '/t/root', '/t', '/t/dnf.conf', [{ name: 'r', dir: '/srv/r' }], ['a']);
  assert.ok(four.includes('-c') && four.includes('--disableplugin=*') && !four.some((a) => a.includes('optional_metadata_types')), four.join(' '));
  const fourHost = dnfTransactionArgv({ flavor: 'dnf4', command: 'dnf' }, '/t/root', '/t', '/t/dnf.conf', [], ['a'], { hostRepos: true });
  assert.ok(fourHost.includes('--setopt=reposdir=/etc/yum.repos.d,/etc/distro.repos.d') && !fourHost.includes('--use-host-config'));
});

test('dnf5\'s table is read from stdout, its failure from stderr', { skip: !isRoot && 'dnfTransaction asks for root' }, async () => {
  const ok = fakeRunner({ dnf5: DNF5_VERSION }, () => ({ exitCode: 1, stdout: DNF5_WEAK, stderr: 'Operation aborted by the user.\n' }));
  const r = await dnfTransaction(ok, [{ name: 'y', dir: '/srv/y' }], ['app-weak'], { weak: true });
  assert.equal(r.resolver, 'dnf5');
  assert.equal(r.packages.length, 7);
  assert.equal(ok.calls[0]![0], 'dnf5');
  assert.equal(ok.calls[1]![0], 'dnf5');
  const failed = fakeRunner({ dnf5: DNF5_VERSION }, () => ({ exitCode: 1, stdout: '', stderr: DNF5_FAILED_STDERR }));
  await assert.rejects(dnfTransaction(failed, [{ name: 'y', dir: '/srv/y' }], ['app-broken']), /dnf5 could not resolve the request: .*nothing provides does-not-exist >= 1 needed by app-broken/);
});

test('dnf5\'s repoquery dump parses into the pool (epoch, provides, obsoletes)', async () => {
  const b = new PoolBuilder('rpm', 'x86_64');
  assert.equal(parseDnfDump(DNF5_DUMP, b), 3);
  const pool = new Pool({ data: b.finish() });
  const c = await resolveClosure(pool, ['app-weak', 'old-name', 'mta']);
  assert.deepEqual(c.packages.map((p) => `${p.name}-${p.evr}`).sort(), ['app-weak-2:1.0-1', 'exim-1.0-1', 'new-name-1.0-1']);
});

test('the host-dnf5 metadata source calls dnf5 with --queryformat, and asks for file owners with file lists', async () => {
  const r = fakeRunner({ dnf5: DNF5_VERSION }, (argv) => ({ stdout: argv.includes('--whatprovides') ? 'data-pkg-0:1.0-1.noarch\n' : DNF5_DUMP }));
  const { source } = await loadDnfMetadata(r, 'dnf5');
  assert.deepEqual(r.calls[0], ['dnf5', '--quiet', 'repoquery', '--available', '--queryformat', QUERY_FORMAT]);
  const owners = await source.loadFiles!(new Set(['/usr/share/data-pkg/table.dat']));
  assert.deepEqual(owners.get('/usr/share/data-pkg/table.dat'), ['data-pkg-1.0-1.noarch']);
  assert.ok(r.calls[1]!.includes('--setopt=optional_metadata_types=filelists') && r.calls[1]![0] === 'dnf5', r.calls[1]!.join(' '));
});
