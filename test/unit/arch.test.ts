/** Architecture names and policies: rpm's compatible architectures (libsolv's), Debian's multi-arch qualifiers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debArch, knownMachine, machineOf, mkosiArch, qemuTarget, rpmArch, rpmArchScore, rpmInstallable } from '../../src/packages/arch.js';
import { parseDebDepends, parseDebPackages } from '../../src/packages/apt.js';
import { reqToString } from '../../src/packages/deps.js';
import { Pool, PoolBuilder } from '../../src/packages/pool.js';
import { resolve } from '../../src/packages/resolve.js';
import { resolveArch } from '../../src/service/host.js';
import { InputError } from '../../src/errors.js';

test('every spelling of a machine maps to uname -m, and back to rpm, dpkg and mkosi', () => {
  for (const [given, machine] of [['amd64', 'x86_64'], ['x86_64', 'x86_64'], ['arm64', 'aarch64'], ['aarch64', 'aarch64'], ['armhf', 'armv7l'], ['armv7hl', 'armv7l'], ['ppc64el', 'ppc64le'], ['i386', 'i686'], ['loong64', 'loongarch64']]) {
    assert.equal(machineOf(given!), machine, given);
  }
  assert.equal(debArch('aarch64'), 'arm64');
  assert.equal(rpmArch('aarch64'), 'aarch64');
  assert.equal(rpmArch('armv7l'), 'armv7hl');
  assert.equal(mkosiArch('aarch64'), 'arm64');
  assert.equal(mkosiArch('x86_64'), 'x86-64');
  assert.equal(knownMachine('ARM64'.toLowerCase()), 'aarch64');
  assert.equal(knownMachine('sparc64'), null);
});

test('--arch: any spelling, else the snapshot\'s, else this machine\'s; an unknown one is an input error naming the known ones', () => {
  const report = (arch: string) => ({ host: { os: 'debian', osVersion: '12', prettyName: '', idLike: [], kernel: '', arch } });
  assert.equal(resolveArch(report('x86_64'), 'arm64'), 'aarch64');
  assert.equal(resolveArch(report('aarch64')), 'aarch64');
  assert.equal(resolveArch(report('')), machineOf(resolveArch(null)));
  assert.throws(
    () => resolveArch(report('x86_64'), 'sparc'),
    (err: unknown) => err instanceof InputError && err.exitCode === 2 && /unknown architecture "sparc"/.test(err.message) && /x86_64, aarch64/.test(err.hint ?? ''),
  );
});

test('rpm architecture scores: noarch 0, native 1, older compatible after it, foreign not installable', () => {
  assert.equal(rpmArchScore('x86_64', 'noarch'), 0);
  assert.equal(rpmArchScore('x86_64', 'x86_64'), 1);
  assert.ok(rpmArchScore('x86_64', 'i686')! > 1);
  assert.ok(rpmArchScore('x86_64', 'i586')! > rpmArchScore('x86_64', 'i686')!);
  assert.equal(rpmArchScore('x86_64', 'aarch64'), null);
  assert.equal(rpmArchScore('aarch64', 'x86_64'), null);
  assert.equal(rpmArchScore('aarch64', 'aarch64'), 1);
  assert.equal(rpmInstallable('aarch64', 'noarch'), true);
  assert.equal(rpmInstallable('i686', 'x86_64'), false);
});

test('QEMU per target: aarch64 on the virt machine with a 64-bit CPU under TCG and its PL011 console', () => {
  const a = qemuTarget('aarch64')!;
  assert.equal(a.binary, 'qemu-system-aarch64');
  assert.equal(a.machine, 'virt');
  assert.equal(a.tcgCpu, 'max');
  assert.equal(a.console, 'ttyAMA0');
  assert.equal(qemuTarget('x86_64')!.binary, 'qemu-system-x86_64');
  assert.equal(qemuTarget('sparc64'), null);
});

/** An rpm pool: [name, arch, requires, provides]. */
function rpmPool(native: string, pkgs: Array<[string, string, string[], string[]?]>): Pool {
  const b = new PoolBuilder('rpm', native);
  for (const [name, arch, requires, provides] of pkgs) {
    b.add({ name, arch, evr: '1.0-1', installSize: 1, repo: 't' });
    b.provide(name, 'EQ', '1.0-1');
    for (const p of provides ?? []) b.provide(p, null, null);
    for (const r of requires) b.require(r);
  }
  return new Pool({ data: b.finish() });
}

const names = (pool: Pool, req: string[]) => resolve(pool, req).packages.map((p) => `${p.name}.${p.arch}`).sort();

test('rpm policy: the native provider beats a noarch one of a later name only when it is native (the aarch64 bug), multilib prefers x86_64', () => {
  // libfoo is provided by libfoo (per architecture) and by a noarch libfoo-compat; strcmp order picks libfoo when it is a candidate.
  const pkgs: Array<[string, string, string[], string[]?]> = [
    ['tool', 'x86_64', ['libfoo']],
    ['tool', 'aarch64', ['libfoo']],
    ['libfoo', 'x86_64', []],
    ['libfoo', 'i686', []],
    ['libfoo', 'aarch64', []],
    ['libfoo-compat', 'noarch', [], ['libfoo']],
  ];
  assert.deepEqual(names(rpmPool('aarch64', pkgs), ['tool']), ['libfoo.aarch64', 'tool.aarch64']);
  assert.deepEqual(names(rpmPool('x86_64', pkgs), ['tool']), ['libfoo.x86_64', 'tool.x86_64']);
  // i686 alone still serves x86_64 (multilib), but never aarch64.
  const only32: Array<[string, string, string[], string[]?]> = [
    ['app', 'noarch', ['lib32']],
    ['lib32', 'i686', []],
  ];
  assert.deepEqual(names(rpmPool('x86_64', only32), ['app']), ['app.noarch', 'lib32.i686']);
});

test('Debian multi-arch qualifiers: :native and the target\'s own name are plain, :any needs Multi-Arch: allowed, another architecture is not in the pool', () => {
  const w: string[] = [];
  const deps = (field: string) => parseDebDepends(field, w, 't', 'arm64').map(reqToString);
  assert.deepEqual(deps('perl:any, libc6:native (>= 2.36), zlib1g:arm64, libfoo:amd64 | libfoo'), ['perl:any', 'libc6 >= 2.36', 'zlib1g', 'libfoo:amd64 or libfoo'].map((s) => (s.includes(' or ') ? `(${s})` : s)));
  assert.deepEqual(w, []);
  const text = [
    'Package: app\nVersion: 1\nArchitecture: arm64\nDepends: python3:any, helper:any\n',
    'Package: python3\nVersion: 3.11\nArchitecture: arm64\nMulti-Arch: allowed\n',
    'Package: helper\nVersion: 1\nArchitecture: arm64\n',
    'Package: amd64only\nVersion: 1\nArchitecture: amd64\n',
    'Package: tool\nVersion: 1\nArchitecture: all\nDepends: libfoo:amd64 | python3\n',
  ].join('\n');
  const pool = new Pool({ data: parseDebPackages(text, 'arm64').data });
  assert.equal(pool.named('amd64only').length, 0, 'a foreign architecture is not in the pool');
  assert.deepEqual(resolve(pool, ['tool']).packages.map((p) => p.name).sort(), ['python3', 'tool']);
  // helper is not Multi-Arch: allowed, so nothing satisfies helper:any (apt: "but it is not installable").
  assert.throws(() => resolve(pool, ['app']), /helper:any/);
  const ok = new Pool({ data: parseDebPackages(text.replace('Package: helper\nVersion: 1\n', 'Package: helper\nVersion: 1\nMulti-Arch: allowed\n'), 'arm64').data });
  assert.deepEqual(resolve(ok, ['app']).packages.map((p) => p.name).sort(), ['app', 'helper', 'python3']);
});
