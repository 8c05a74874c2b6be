/**
 * --arch end to end through the CLI: one rpm-md repository holding x86_64,
 * i686, aarch64 and noarch packages answers per target, and a misspelt
 * architecture is refused before anything is read.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildRpmRepo, type TestRpm } from '../support/rpmrepo.js';
import { runCli, tempDir, isRoot } from '../helpers.js';

const tools = ['rpmbuild', 'createrepo_c'].every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);
const skip = tools ? false : 'rpmbuild and createrepo_c are needed';

// tool needs libfoo; libfoo exists per architecture, and a noarch libfoo-compat provides it too (a later name:
// chosen only when no libfoo of a usable architecture is a candidate, which is what a wrong target did).
const REPO: TestRpm[] = [
  { name: 'tool', arch: 'x86_64', requires: ['libfoo'] },
  { name: 'tool', arch: 'aarch64', requires: ['libfoo'] },
  { name: 'libfoo', arch: 'x86_64' },
  { name: 'libfoo', arch: 'i686' },
  { name: 'libfoo', arch: 'aarch64' },
  { name: 'libfoo-compat', arch: 'noarch', provides: ['libfoo'] },
];

let dir = '';
let cache = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => {
  const t = await tempDir('iw-arch-');
  cleanup = t.cleanup;
  dir = path.join(t.dir, 'repo');
  cache = path.join(t.dir, 'cache');
  if (!skip) await buildRpmRepo(dir, REPO);
});
after(() => cleanup());

const closure = async (...args: string[]) => {
  const r = await runCli(['closure', '--packages', 'tool', '--repo', `t=${dir}`, '--json', ...args], { XDG_CACHE_HOME: cache });
  return { ...r, doc: r.code === 0 || r.code === 1 ? (JSON.parse(r.stdout) as { arch: string; packages: Array<{ name: string; arch: string }>; verify?: { matches: boolean } }) : null };
};
const nevras = (doc: { packages: Array<{ name: string; arch: string }> }) => doc.packages.map((p) => `${p.name}.${p.arch}`).sort();

test('closure --arch picks the target\'s packages from a mixed repository, in any spelling', { skip }, async () => {
  for (const [flag, machine, want] of [
    ['aarch64', 'aarch64', ['libfoo.aarch64', 'tool.aarch64']],
    ['arm64', 'aarch64', ['libfoo.aarch64', 'tool.aarch64']],
    ['amd64', 'x86_64', ['libfoo.x86_64', 'tool.x86_64']],
  ] as const) {
    const r = await closure('--arch', flag);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.doc!.arch, machine);
    assert.deepEqual(nevras(r.doc!), want, flag);
  }
  const text = await runCli(['closure', '--packages', 'tool', '--repo', `t=${dir}`, '--arch', 'arm64'], { XDG_CACHE_HOME: cache });
  assert.match(text.stdout, /^Architecture: aarch64 \(aarch64 and noarch packages\)$/m);
});

test('closure --arch aarch64 --verify: dnf --forcearch=aarch64 agrees', { skip: skip || (!isRoot ? 'dnf transactions need root' : spawnSync('dnf', ['--version'], { stdio: 'ignore' }).status !== 0 ? 'dnf is needed' : false) }, async () => {
  const r = await closure('--arch', 'aarch64', '--verify');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.doc!.verify?.matches, true);
});

test('an unknown --arch is an input error (exit 2) naming the known architectures, on closure and build', async () => {
  for (const argv of [['closure', '--packages', 'tool', '--repo', `t=${dir || '/nonexistent'}`, '--arch', 'sparc'], ['build', '--arch', 'sparc']]) {
    const r = await runCli(argv, { XDG_CACHE_HOME: cache || '/nonexistent' });
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /unknown architecture "sparc"/);
    assert.match(r.stderr, /x86_64, aarch64/);
  }
});
