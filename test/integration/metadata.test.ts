/**
 * Metadata sources and the cache: the same repository read as rpm-md (gz, zstd,
 * xz) and through dnf's own repoquery gives the same closure; the cache is
 * reused, refreshed when the repository changes, rebuilt when corrupt; broken
 * metadata gives an error that names the file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { buildRpmRepo, type TestRpm } from '../support/rpmrepo.js';
import { tempDir } from '../helpers.js';
import { loadPool } from '../../src/packages/metadata.js';
import { resolveClosure } from '../../src/packages/resolve.js';
import { systemRunner } from '../../src/system/run.js';
import { InputError } from '../../src/errors.js';

const haveTools = ['rpmbuild', 'createrepo_c', 'dnf'].every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);
const skip = !haveTools && 'rpmbuild, createrepo_c or dnf missing';

const PKGS: TestRpm[] = [
  { name: 'app', requires: ['libx.so.2()(64bit)', '(zlib-ng or zlib)', '/usr/share/data/file'], recommends: ['extra'] },
  { name: 'libx', arch: 'x86_64', provides: ['libx.so.2()(64bit)'], version: '2.0', epoch: 1 },
  { name: 'zlib' }, { name: 'zlib-ng' }, { name: 'data', files: ['/usr/share/data/file'] }, { name: 'extra' },
];

/** After a test rewrites a metadata file, repomd.xml states its new checksum (as createrepo_c would), so the test reaches the content. */
async function restateChecksum(dir: string, oldSum: string, file: string): Promise<void> {
  const repomd = path.join(dir, 'repodata', 'repomd.xml');
  const sum = createHash('sha256').update(await readFile(file)).digest('hex');
  await writeFile(repomd, (await readFile(repomd, 'utf8')).replace(`>${oldSum}</checksum>`, `>${sum}</checksum>`));
}
const sumOf = (file: string) => path.basename(file).split('-')[0]!;

let work = '';
let cleanup: () => Promise<void> = async () => {};
const repo = () => path.join(work, 'gz');

before(async () => {
  if (skip) return;
  const t = await tempDir('iw-meta-');
  work = t.dir;
  cleanup = t.cleanup;
  await buildRpmRepo(repo(), PKGS);
  await cp(repo(), path.join(work, 'xz'), { recursive: true });
  await rm(path.join(work, 'xz', 'repodata'), { recursive: true });
  execFileSync('createrepo_c', ['--quiet', '--general-compress-type', 'xz', '--excludes', '.rpmbuild/*', path.join(work, 'xz')]);
  // Debian's createrepo_c is built without zstd: recompress primary with the zstd tool and point repomd.xml at it.
  await cp(repo(), path.join(work, 'zstd'), { recursive: true });
  const rd = path.join(work, 'zstd', 'repodata');
  const gzName = (await readdir(rd)).find((f) => f.endsWith('primary.xml.gz'))!;
  const zstName = gzName.replace(/\.gz$/, '.zst');
  execFileSync('sh', ['-c', 'gzip -dc "$1" | zstd -q -o "$2"', 'sh', path.join(rd, gzName), path.join(rd, zstName)]);
  await rm(path.join(rd, gzName));
  const repomd = await readFile(path.join(rd, 'repomd.xml'), 'utf8');
  await writeFile(path.join(rd, 'repomd.xml'), repomd.replace(gzName, zstName));
  await restateChecksum(path.join(work, 'zstd'), sumOf(gzName), path.join(rd, zstName));
});
after(() => cleanup());

const names = (c: { packages: Array<{ name: string }> }) => c.packages.map((p) => p.name).sort();

test('gzip, zstd and xz compressed repositories give the same closure', { skip }, async () => {
  const results = [];
  for (const kind of ['gz', 'zstd', 'xz']) {
    const files = await readdir(path.join(work, kind, 'repodata'));
    assert.ok(files.some((f) => f.endsWith(kind === 'gz' ? '.xml.gz' : kind === 'zstd' ? '.xml.zst' : '.xml.xz')), `${kind} metadata present`);
    const { pool } = await loadPool({ kind: 'rpm-md', repos: [{ name: kind, dir: path.join(work, kind) }] }, { runner: systemRunner, cacheDir: null });
    results.push(names(await resolveClosure(pool, ['app'])));
  }
  assert.deepEqual(results[0], ['app', 'data', 'libx', 'zlib']);
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
});

test('dnf\'s repoquery dump of the configured repositories resolves like the rpm-md files', { skip }, async () => {
  const conf = path.join(work, 'dnf.conf');
  await writeFile(conf, '[main]\ngpgcheck=0\nreposdir=/dev/null\n');
  const extraArgs = ['-c', conf, '--releasever=39', `--setopt=cachedir=${path.join(work, 'dnfcache')}`, `--repofrompath=t,${repo()}`, '--repo=t', '--setopt=t.gpgcheck=0'];
  const viaDnf = await loadPool({ kind: 'dnf', flavor: 'dnf4', extraArgs }, { runner: systemRunner, cacheDir: null });
  const viaFiles = await loadPool({ kind: 'rpm-md', repos: [{ name: 't', dir: repo() }] }, { runner: systemRunner, cacheDir: null });
  const a = await resolveClosure(viaDnf.pool, ['app']);
  const b = await resolveClosure(viaFiles.pool, ['app']);
  assert.deepEqual(names(a), names(b));
  assert.equal(a.packages.find((p) => p.name === 'libx')?.evr, '1:2.0-1');
  assert.deepEqual(a.packages.find((p) => p.name === 'data')?.why, ['app', '/usr/share/data/file', 'data']);
});

test('the cache is used, refreshed when the repository changes, and rebuilt when corrupt', { skip }, async () => {
  const cacheDir = path.join(work, 'cache');
  const spec = { kind: 'rpm-md' as const, repos: [{ name: 'c', dir: repo() }] };
  const first = await loadPool(spec, { runner: systemRunner, cacheDir });
  assert.equal(first.cache, 'miss');
  const second = await loadPool(spec, { runner: systemRunner, cacheDir });
  assert.equal(second.cache, 'hit');
  assert.deepEqual(names(await resolveClosure(second.pool, ['app'])), names(await resolveClosure(first.pool, ['app'])));

  const [file] = await readdir(cacheDir);
  const bytes = await readFile(path.join(cacheDir, file!));
  await writeFile(path.join(cacheDir, file!), bytes.subarray(0, Math.floor(bytes.length / 2)));
  const third = await loadPool(spec, { runner: systemRunner, cacheDir });
  assert.equal(third.cache, 'miss');
  assert.ok(third.warnings.some((w) => /corrupt/.test(w)), third.warnings.join());

  // A changed repository has new checksums, hence a new key: the old entry is not used.
  await buildRpmRepo(path.join(work, 'gz2'), [...PKGS, { name: 'newcomer' }]);
  const changed = await loadPool({ kind: 'rpm-md', repos: [{ name: 'c', dir: path.join(work, 'gz2') }] }, { runner: systemRunner, cacheDir });
  assert.equal(changed.cache, 'miss');
  assert.ok(changed.pool.named('newcomer').length === 1);
});

test('broken metadata gives a clear error naming the file', { skip }, async () => {
  const broken = async (name: string, change: (dir: string) => Promise<void>) => {
    const dir = path.join(work, name);
    await cp(repo(), dir, { recursive: true });
    await change(dir);
    return loadPool({ kind: 'rpm-md', repos: [{ name, dir }] }, { runner: systemRunner, cacheDir: null });
  };
  const primaryOf = async (dir: string) => path.join(dir, 'repodata', (await readdir(path.join(dir, 'repodata'))).find((f) => f.includes('primary.xml'))!);

  await assert.rejects(broken('truncated-xml', async (dir) => {
    const p = await primaryOf(dir);
    const xml = execFileSync('gzip', ['-dc', p]).toString();
    execFileSync('sh', ['-c', 'gzip -c > "$1"', 'sh', p], { input: xml.slice(0, Math.floor(xml.length * 0.6)) });
    await restateChecksum(dir, sumOf(p), p);
  }), (err: unknown) => err instanceof InputError && /primary\.xml\.gz: truncated/.test(err.message));

  await assert.rejects(broken('bad-compression', async (dir) => {
    const p = await primaryOf(dir);
    const gz = await readFile(p);
    await writeFile(p, gz.subarray(0, 40));
    await restateChecksum(dir, sumOf(p), p);
  }), (err: unknown) => err instanceof InputError && /primary\.xml\.gz: gzip data is corrupt or truncated/.test(err.message));

  await assert.rejects(broken('no-primary', async (dir) => {
    const f = path.join(dir, 'repodata', 'repomd.xml');
    const xml = await readFile(f, 'utf8');
    await writeFile(f, xml.replace(/<data type="primary">[\s\S]*?<\/data>/, ''));
  }), (err: unknown) => err instanceof InputError && /repomd\.xml has no "primary" entry/.test(err.message));

  await assert.rejects(broken('missing-file', async (dir) => rm(await primaryOf(dir))), (err: unknown) => err instanceof InputError && /named in repomd\.xml\) is missing/.test(err.message));
});
