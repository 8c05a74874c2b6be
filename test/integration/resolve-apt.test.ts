/**
 * Against the real Debian metadata of this machine: the closure of every
 * suggested Debian variant equals apt's own simulation from an empty status.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadAptMetadata } from '../../src/packages/apt.js';
import { Pool } from '../../src/packages/pool.js';
import { resolve } from '../../src/packages/resolve.js';
import { aptSimulation } from '../../src/packages/verify.js';
import { systemRunner } from '../../src/system/run.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { analyze } from '../../src/host/analyze.js';
import { loadProfiles } from '../../src/variant/profiles.js';
import { suggest } from '../../src/variant/suggest.js';
import { fixture, fixtureNames } from '../helpers.js';

const hasApt = spawnSync('apt-cache', ['--version'], { stdio: 'ignore' }).status === 0;
let pool: Pool;

before(async () => {
  if (hasApt) pool = new Pool((await loadAptMetadata(systemRunner)).source);
});

test('the closure of each suggested Debian variant equals apt-get -s from an empty status', { skip: !hasApt && 'apt not available' }, async () => {
  const profiles = await loadProfiles();
  const seen = new Set<string>();
  const names = await fixtureNames();
  assert.ok(names.length > 0, 'captured fixtures exist');
  for (const name of names) {
    const report = analyze(await loadSnapshot(fixture(name)));
    const variant = suggest(report, profiles, { distro: { id: 'debian', version: '12', family: 'debian' } });
    const key = variant.packages.join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    const ours = resolve(pool, variant.packages).packages.map((p) => p.name).sort();
    const apt = await aptSimulation(systemRunner, variant.packages);
    assert.deepEqual(ours, apt.packages, `variant of ${name}: ${variant.profiles.join(',')}`);
  }
});

test('alternatives, virtual packages and versioned provides follow apt', { skip: !hasApt && 'apt not available' }, async () => {
  // lvm2 needs the virtual awk (mawk, gawk …: apt takes the Priority: required one) and "usrmerge | usr-is-merged" comes in via init-system-helpers.
  for (const req of [['mdadm'], ['lvm2', 'systemd'], ['lvm2', 'thin-provisioning-tools'], ['nfs-common'], ['opensc-pkcs11', 'p11-kit-modules']]) {
    const ours = resolve(pool, req).packages.map((p) => p.name).sort();
    assert.deepEqual(ours, (await aptSimulation(systemRunner, req)).packages, req.join(' '));
  }
});
