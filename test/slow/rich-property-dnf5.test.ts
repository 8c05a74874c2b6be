/**
 * The rich-dependency property against dnf5 5.4 as Fedora runs it: the
 * repositories of test/integration/rich-property.test.ts, built by sid's own
 * rpmbuild (rpm 6) and createrepo_c inside the sid chroot, each request
 * resolved by dnf5 there and by our resolver here; the two must name the same
 * packages, or both refuse.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isRoot } from '../helpers.js';
import { ensureChroot, inChroot } from '../support/toolchain.js';
import { buildRpmRepo } from '../support/rpmrepo.js';
import { RICH_SEEDS, richRepo } from '../support/rich-repo.js';
import { loadRpmRepos } from '../../src/packages/rpmmd.js';
import { Pool } from '../../src/packages/pool.js';
import { resolveClosure } from '../../src/packages/resolve.js';
import { dnfTransactionArgv, parseDnfTransaction } from '../../src/packages/verify.js';

const skip = !isRoot ? 'needs root (chroot, dnf5 transactions)' : false;
/** Inside the chroot: the repositories and dnf5's scratch space. */
const TOP = `/srv/iw-rich-${process.pid}`;
let root = '';

before(async () => {
  if (skip) return;
  root = await ensureChroot('sid');
  for (const seed of RICH_SEEDS) {
    const dir = path.join(TOP, `seed-${seed}`);
    await mkdir(path.join(root, dir), { recursive: true });
    await buildRpmRepo(dir, richRepo(seed).packages, { root });
  }
});

after(async () => {
  if (root) await rm(path.join(root, TOP), { recursive: true, force: true });
});

/** dnf5's transaction for the request, in the chroot; null when it refuses. */
async function dnf5(seed: number, packages: string[], weak: boolean): Promise<string[] | null> {
  const tmp = path.join(TOP, `dnf-${seed}-${packages.join('-')}-${weak}`);
  await mkdir(path.join(root, tmp, 'root'), { recursive: true });
  const conf = path.join(tmp, 'dnf.conf');
  await writeFile(path.join(root, conf), `[main]\ngpgcheck=0\nreposdir=/dev/null\ninstall_weak_deps=${weak ? 'True' : 'False'}\nkeepcache=0\n`);
  const argv = dnfTransactionArgv({ flavor: 'dnf5', command: 'dnf5' }, path.join(tmp, 'root'), tmp, conf, [{ name: 'rich', dir: path.join(TOP, `seed-${seed}`) }], packages, { weak });
  const r = await inChroot(root, argv, { env: { COLUMNS: '200', LC_ALL: 'C.UTF-8' }, timeoutMs: 300_000 });
  await rm(path.join(root, tmp), { recursive: true, force: true });
  return /Transaction Summary/.test(r.stdout) ? parseDnfTransaction(r.stdout) : null;
}

for (const seed of RICH_SEEDS) {
  test(`seed ${seed}: every request resolves to dnf5's transaction`, { skip }, async () => {
    const pool = new Pool((await loadRpmRepos([{ name: 'rich', dir: path.join(root, TOP, `seed-${seed}`) }])).source);
    const mismatches: string[] = [];
    let resolved = 0;
    for (const { packages, weak } of richRepo(seed).requests) {
      const ours = await resolveClosure(pool, packages, { weak }).then((c) => c.packages.map((p) => p.name).sort().join(' '), () => 'unresolvable');
      const theirs = (await dnf5(seed, packages, weak))?.join(' ') ?? 'unresolvable';
      if (ours !== 'unresolvable') resolved++;
      if (ours !== theirs) mismatches.push(`${packages.join(' ')}${weak ? ' (weak)' : ''}:\n  ours ${ours}\n  dnf5 ${theirs}`);
    }
    assert.deepEqual(mismatches, []);
    assert.ok(resolved > 0, 'some requests resolve: the comparison is not between two refusals');
  });
}
