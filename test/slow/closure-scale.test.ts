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
import { fixture, fixtureNames, tempDir, isRoot } from '../helpers.js';

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
  const requests = new Map<string, string[]>();
  for (const name of await fixtureNames()) {
    const variant = suggest(analyze(await loadSnapshot(fixture(name))), profiles, { distro: { id: 'debian', version: '12', family: 'debian' } });
    requests.set(variant.packages.join(' '), variant.packages);
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
