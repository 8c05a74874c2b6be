/**
 * A foreign architecture end to end: Debian bookworm's arm64 list, resolved
 * in-process for aarch64 on whatever machine runs the tests, against apt's
 * simulation for arm64 (a private apt configuration whose only list is that
 * file) and, converted to rpm-md, against dnf --forcearch=aarch64.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { convertDebToRpmMd } from '../support/deb2rpmmd.js';
import { ARM64_CACHE_DIR, ARM64_LIST_NAME, arm64Packages, arm64Unavailable, haveTool } from '../support/arm64-lists.js';
import { loadPool } from '../../src/packages/metadata.js';
import { resolve } from '../../src/packages/resolve.js';
import type { Pool } from '../../src/packages/pool.js';
import { aptSimulation, dnfTransaction } from '../../src/packages/verify.js';
import { systemRunner } from '../../src/system/run.js';
import { tempDir, isRoot } from '../helpers.js';
import { VARIANT } from '../bench/closure.js';

const BASE = ['systemd', 'udev', 'kmod', 'lvm2', 'cryptsetup-bin'];
const REQUESTS: Record<string, string[]> = { base: BASE, variant: VARIANT };

const offline = await arm64Unavailable();
const aptSkip = offline ?? (haveTool('apt-get') ? false : 'apt-get is needed');
const dnfSkip = offline ?? (!haveTool('dnf') ? 'dnf is needed' : !isRoot ? 'dnf transactions need root' : false);

let work = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => {
  const t = await tempDir('iw-arm64-');
  work = t.dir;
  cleanup = t.cleanup;
});
after(() => cleanup());

/** `apt-get -o` settings that make apt see the arm64 list alone, as an arm64 machine with only that source would. */
async function aptArm64Options(): Promise<string[]> {
  const etc = path.join(work, 'apt-etc');
  const lists = path.join(work, 'apt-lists');
  await mkdir(path.join(etc, 'apt.conf.d'), { recursive: true });
  await mkdir(path.join(etc, 'preferences.d'), { recursive: true });
  await mkdir(path.join(lists, 'partial'), { recursive: true });
  await mkdir(path.join(work, 'apt-cache', 'archives', 'partial'), { recursive: true });
  await writeFile(path.join(etc, 'sources.list'), 'deb [arch=arm64 trusted=yes] http://deb.debian.org/debian bookworm main\n');
  await writeFile(path.join(lists, ARM64_LIST_NAME), await arm64Packages());
  return [
    `Dir::Etc=${etc}`,
    `Dir::Etc::sourcelist=${path.join(etc, 'sources.list')}`,
    'Dir::Etc::sourceparts=-',
    `Dir::State::lists=${lists}`,
    `Dir::Cache=${path.join(work, 'apt-cache')}`,
    'APT::Architecture=arm64',
    'APT::Architectures::=arm64',
  ];
}

async function debPool(): Promise<Pool> {
  const file = path.join(work, 'Packages.xz');
  await copyFile(path.join(ARM64_CACHE_DIR, 'Packages.xz'), file);
  return (await loadPool({ kind: 'deb-file', file }, { runner: systemRunner, cacheDir: null, arch: 'aarch64' })).pool;
}

test('arm64 (deb): the in-process closure is apt\'s for arm64', { skip: aptSkip, timeout: 300_000 }, async () => {
  const pool = await debPool();
  assert.equal(pool.arch, 'arm64');
  const options = await aptArm64Options();
  for (const [label, packages] of Object.entries(REQUESTS)) {
    const closure = resolve(pool, packages);
    assert.ok(closure.packages.every((p) => p.arch === 'arm64' || p.arch === 'all'), `${label}: only arm64 and all`);
    const ours = closure.packages.map((p) => p.name).sort();
    const apt = await aptSimulation(systemRunner, packages, { options });
    console.log(`arm64 deb ${label}: ours ${ours.length}, apt ${apt.packages.length}`);
    assert.deepEqual(ours, apt.packages, label);
  }
});

test('arm64 (rpm-md): the in-process closure is dnf --forcearch=aarch64\'s', { skip: dnfSkip, timeout: 600_000 }, async () => {
  const repo = path.join(work, 'rpm-md');
  await convertDebToRpmMd(await arm64Packages(), repo, 'arm64');
  const repos = [{ name: 'debarm64', dir: repo }];
  const pool = (await loadPool({ kind: 'rpm-md', repos }, { runner: systemRunner, cacheDir: null, arch: 'aarch64' })).pool;
  assert.equal(pool.arch, 'aarch64');
  for (const [label, packages] of Object.entries(REQUESTS)) {
    const closure = resolve(pool, packages);
    assert.ok(closure.packages.every((p) => p.arch === 'aarch64' || p.arch === 'noarch'), `${label}: only aarch64 and noarch`);
    const ours = closure.packages.map((p) => p.name).sort();
    const dnf = await dnfTransaction(systemRunner, repos, packages, { forcearch: 'aarch64' });
    console.log(`arm64 rpm-md ${label}: ours ${ours.length}, ${dnf.resolver} ${dnf.packages.length}`);
    assert.deepEqual(ours, dnf.packages, label);
  }
});
