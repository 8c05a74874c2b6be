/**
 * Property: on random repositories full of rich dependencies (built by
 * rpmbuild, indexed by createrepo_c), our closure is dnf's transaction, or
 * both refuse the request. dnf4 here; dnf5 in the sid chroot is the slow
 * tier's test/slow/rich-property-dnf5.test.ts, over the same repositories.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildRpmRepo } from '../support/rpmrepo.js';
import { RICH_SEEDS as SEEDS, richRepo } from '../support/rich-repo.js';
import { tempDir, isRoot } from '../helpers.js';
import { loadRpmRepos } from '../../src/packages/rpmmd.js';
import { Pool } from '../../src/packages/pool.js';
import { resolveClosure } from '../../src/packages/resolve.js';
import { dnfTransaction } from '../../src/packages/verify.js';
import { systemRunner } from '../../src/system/run.js';

const haveTools = ['rpmbuild', 'createrepo_c', 'dnf'].every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);
const skip = !haveTools ? 'rpmbuild, createrepo_c or dnf missing (apt-get install rpm createrepo-c dnf)' : !isRoot ? 'dnf transactions need root' : false;


const repos = new Map<number, { dir: string; pool: Pool }>();
let cleanup = async () => {};

before(async () => {
  if (skip) return;
  const t = await tempDir('rich-property-');
  cleanup = t.cleanup;
  const top = t.dir;
  await Promise.all(
    SEEDS.map(async (seed) => {
      const dir = path.join(top, `seed-${seed}`);
      await buildRpmRepo(dir, richRepo(seed).packages);
      repos.set(seed, { dir, pool: new Pool((await loadRpmRepos([{ name: `seed${seed}`, dir }])).source) });
    }),
  );
});

after(() => cleanup());

/** Package names, or the refusal, from either side. */
async function outcome(run: () => Promise<string[]>): Promise<string> {
  try {
    return (await run()).sort().join(' ');
  } catch {
    return 'unresolvable';
  }
}

for (const seed of SEEDS) {
  test(`seed ${seed}: every request resolves to dnf's transaction`, { skip }, async () => {
    const { dir, pool } = repos.get(seed)!;
    const { requests } = richRepo(seed);
    const mismatches: string[] = [];
    let grew = 0;
    for (const { packages, weak } of requests) {
      const ours = await outcome(async () => (await resolveClosure(pool, packages, { weak })).packages.map((p) => p.name));
      const dnf = await outcome(async () => (await dnfTransaction(systemRunner, [{ name: 'rich', dir }], packages, { weak })).packages);
      if (ours !== 'unresolvable' && ours.split(' ').length > packages.length) grew++;
      if (ours !== dnf) mismatches.push(`${packages.join(' ')}${weak ? ' (weak)' : ''}:\n  ours ${ours}\n  dnf  ${dnf}`);
    }
    assert.deepEqual(mismatches, [], `repository: ${JSON.stringify(richRepo(seed).packages)}`);
    // Not vacuous: requests resolve and pull in more than they asked for.
    assert.ok(grew >= requests.length / 2, `only ${grew} of ${requests.length} requests pulled anything in`);
  });
}
