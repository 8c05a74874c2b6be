/**
 * At scale: Debian's real dependency graph (~64,000 packages) converted to
 * rpm-md, and every suggested variant resolved in-process and by dnf's own
 * transaction into an empty root. The package sets must be identical.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { convertDebToRpmMd } from '../support/deb2rpmmd.js';
import { loadPool } from '../../src/packages/metadata.js';
import { resolve } from '../../src/packages/resolve.js';
import type { Pool } from '../../src/packages/pool.js';
import { dnfTransaction } from '../../src/packages/verify.js';
import { systemRunner } from '../../src/system/run.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { analyze } from '../../src/host/analyze.js';
import { loadProfiles } from '../../src/variant/profiles.js';
import { suggest } from '../../src/variant/suggest.js';
import { matchContextFor, readEffectiveContent } from '../../src/mkosi/builtin.js';
import { hostFs } from '../../src/system/files.js';
import { fixture, fixtureNames, tempDir, isRoot, ROOT } from '../helpers.js';

const ready = ['apt-cache', 'dnf'].every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);
const skip = !ready ? 'apt-cache and dnf are needed' : !isRoot ? 'dnf transactions need root' : false;
let repoDir = '';
let pool: Pool;
let cleanup: () => Promise<void> = async () => {};

before(async () => {
  if (skip) return;
  const t = await tempDir('iw-scale-');
  cleanup = t.cleanup;
  repoDir = path.join(t.dir, 'repo');
  await convertDebToRpmMd(execFileSync('apt-cache', ['-o', 'Dir::State::status=/dev/null', 'dumpavail'], { encoding: 'utf8', maxBuffer: 1 << 30 }), repoDir);
  pool = (await loadPool({ kind: 'rpm-md', repos: [{ name: 'debgraph', dir: repoDir }] }, { runner: systemRunner, cacheDir: null })).pool;
});
after(() => cleanup());

test('every suggested variant resolves to dnf\'s exact package set on a 64,000-package repository', { skip, timeout: 1_800_000 }, async () => {
  const profiles = await loadProfiles();
  // What a build asks the package manager for: mkosi 24.3's own Debian list (its plain names) and the variant's.
  const builtin = await readEffectiveContent({ fs: hostFs('/'), builtinDir: path.join(ROOT, 'test/fixtures/mkosi-resources/24.3'), mkosiMajor: 24, ctx: matchContextFor({ id: 'debian', version: '12', codename: 'bookworm' }) });
  const base = builtin.packages.map((p) => p.spec).filter((n) => /^[a-z0-9][a-z0-9.+-]*$/.test(n));
  assert.ok(base.includes('systemd') && base.includes('lvm2'), base.join(' '));
  const requests = new Map<string, string[]>();
  for (const name of await fixtureNames()) {
    const variant = suggest(analyze(await loadSnapshot(fixture(name))), profiles, { distro: { id: 'debian', version: '12', family: 'debian', codename: 'bookworm' } });
    const packages = [...new Set([...base, ...variant.packages])];
    requests.set(packages.join(' '), packages);
  }
  // Every profile at once, and with weak dependencies, for breadth.
  const everything = [...new Set([...requests.values()].flat().concat(['nfs-common', 'iproute2', 'opensc-pkcs11', 'thin-provisioning-tools']))];
  requests.set('everything', everything);
  assert.ok(requests.size >= 3);
  for (const [label, packages] of requests) {
    const ours = resolve(pool, packages).packages.map((p) => p.name).sort();
    const dnf = await dnfTransaction(systemRunner, [{ name: 'debgraph', dir: repoDir }], packages);
    assert.deepEqual(ours, dnf.packages, label.slice(0, 120));
  }
});
