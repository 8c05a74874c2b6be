/**
 * Before building: every missing piece is named with its fix; known build
 * failures are explained in a sentence instead of a dump. The failure texts
 * come from the real tools (apt, dnf), run here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildPreflight, explainBuildFailure } from '../../src/mkosi/build.js';
import { hostFs } from '../../src/system/files.js';
import { fixture, runCli, tempDir } from '../helpers.js';
import { existsSync, readdirSync } from 'node:fs';

const base = { kernelVersion: '6.1.0-99-amd64', uid: 0, mkosiVersion: '24.3', mkosiMajor: 24, hasInitrd: true, family: 'debian' };

test('a complete root passes every item', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const mod = path.join(dir, 'usr/lib/modules/6.1.0-99-amd64');
    await mkdir(mod, { recursive: true });
    await writeFile(path.join(mod, 'modules.dep'), '');
    await writeFile(path.join(mod, 'vmlinuz'), '');
    await mkdir(path.join(dir, 'proc'));
    await writeFile(path.join(dir, 'proc/modules'), 'dm_mod 184320 0 - Live 0x0\n');
    await mkdir(path.join(dir, 'var/lib/apt/lists'), { recursive: true });
    await mkdir(path.join(dir, 'var/tmp'), { recursive: true });
    await mkdir(path.join(dir, 'usr/lib/firmware'), { recursive: true });
    await writeFile(path.join(dir, 'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages'), '');
    const items = await buildPreflight({ ...base, fs: hostFs(dir) });
    assert.deepEqual(items.filter((i) => !i.ok), []);
  } finally {
    await cleanup();
  }
});

test('each missing piece fails with its own fix', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await mkdir(path.join(dir, 'var/lib/apt/lists'), { recursive: true });
    const old = path.join(dir, 'var/lib/apt/lists/x_Packages');
    await writeFile(old, '');
    const monthAgo = new Date(Date.now() - 30 * 86400_000);
    await utimes(old, monthAgo, monthAgo);
    const items = await buildPreflight({ ...base, uid: 1000, mkosiVersion: '14', mkosiMajor: 14, hasInitrd: false, fs: hostFs(dir) });
    const byId = Object.fromEntries(items.map((i) => [i.id, i]));
    assert.match(byId.root!.fix!, /sudo/);
    assert.match(byId.mkosi!.detail, /mkosi 14 has no mkosi-initrd/);
    assert.match(byId.mkosi!.fix!, /bookworm-backports/);
    assert.match(byId['kernel-modules']!.detail, /modules\.dep is missing/);
    assert.match(byId.vmlinuz!.detail, /every module/);
    // No /boot/vmlinuz-KVER here either: nothing to copy, so the kernel package is what is missing.
    assert.equal(byId.vmlinuz!.fix, 'install the kernel package of 6.1.0-99-amd64');
    assert.equal(byId['kernel-modules']!.fix, 'install the modules package of kernel 6.1.0-99-amd64');
    assert.match(byId['proc-modules']!.detail, /no loadable modules/);
    assert.match(byId['proc-modules']!.fix!, /--snapshot|--generic/);
    assert.match(byId['firmware-dir']!.fix!, /mkdir -p \/usr\/lib\/firmware/);
    assert.match(byId.metadata!.detail, /30 days old/);
    assert.match(byId.metadata!.fix!, /apt-get update/);
  } finally {
    await cleanup();
  }
});

test('a missing kernel image is copied only from where it is, and another installed kernel is named by its version', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const k = base.kernelVersion;
    await mkdir(path.join(dir, `usr/lib/modules/${k}`), { recursive: true });
    await writeFile(path.join(dir, `usr/lib/modules/${k}/modules.dep`), '');
    await mkdir(path.join(dir, 'boot'));
    await writeFile(path.join(dir, `boot/vmlinuz-${k}`), '');
    let byId = Object.fromEntries((await buildPreflight({ ...base, fs: hostFs(dir) })).map((i) => [i.id, i]));
    assert.equal(byId.vmlinuz!.fix, `cp /boot/vmlinuz-${k} /usr/lib/modules/${k}/vmlinuz`);

    // Asked for a kernel that is not installed: the fix names the one that is, never a placeholder.
    const other = '6.1.0-42-amd64';
    await mkdir(path.join(dir, `usr/lib/modules/${other}`), { recursive: true });
    await writeFile(path.join(dir, `usr/lib/modules/${other}/modules.dep`), '');
    await writeFile(path.join(dir, `usr/lib/modules/${other}/vmlinuz`), '');
    byId = Object.fromEntries((await buildPreflight({ ...base, kernelVersion: '6.9.9-missing', fs: hostFs(dir) })).map((i) => [i.id, i]));
    assert.match(byId['kernel-modules']!.fix!, /^install the modules package of kernel 6\.9\.9-missing, or build for an installed kernel: \S*initrd-wizard\S* build --kernel-version 6\.1\.0-99-amd64 \(installed: 6\.1\.0-42-amd64, 6\.1\.0-99-amd64\)$/);
    assert.match(byId.vmlinuz!.fix!, /^install the kernel package of 6\.9\.9-missing, or build for an installed kernel/);
    assert.doesNotMatch(byId.vmlinuz!.fix!, /cp |KVER/);
  } finally {
    await cleanup();
  }
});

test('known build failures are explained, with their fix', () => {
  const procModules = "FileNotFoundError: [Errno 2] No such file or directory: '/proc/modules'";
  assert.match(explainBuildFailure(procModules)!.message, /no loadable modules/);
  const apt = spawnSync('apt-get', ['-s', 'install', 'initrd-wizard-no-such-package'], { encoding: 'utf8' });
  const aptText = `${apt.stdout}${apt.stderr}`;
  assert.match(aptText, /Unable to locate package/, 'real apt output');
  assert.match(explainBuildFailure(aptText)!.message, /"initrd-wizard-no-such-package" is not in the configured repositories/);
  assert.match(explainBuildFailure("No match for argument: lvm3\nError: Unable to find a match: lvm3")!.message, /"lvm3"/);
  assert.match(explainBuildFailure("error: target not found: mdadmx")!.message, /"mdadmx"/);
  assert.match(explainBuildFailure('write error: No space left on device')!.hint, /free space/);
  assert.match(explainBuildFailure('Err:1 http://deb.debian.org/debian bookworm/main amd64 lvm2 amd64 2.03.16-2\n  404  Not Found [IP: 1.2.3.4 80]')!.message, /stale/);
  // mkosi 25.3's words (27.1 has the same die()) when install.conf says uki_generator=mkosi and the image lacks the stub.
  const stub = explainBuildFailure('‣ sd-stub not found at /usr/lib/systemd/boot/efi/linuxx64.efi.stub in the image')!;
  assert.match(stub.message, /takes the EFI stub from the image it builds/);
  assert.match(stub.hint, /systemd-boot-efi.*uki_generator=ukify/);
  assert.equal(explainBuildFailure('something nobody has seen'), null);
});

/**
 * `build --format uki` on this machine: the refusal names what is really
 * missing here, found the way the product finds it (systemd's version,
 * whether ukify runs, the stub), each with its fix, before anything is built.
 */
const ukiReady = ['/usr/bin/ukify', '/usr/lib/systemd/ukify'].some((p) => existsSync(p) && spawnSync(p, ['--version']).status === 0) && existsSync('/usr/lib/systemd/boot/efi/linuxx64.efi.stub');
test('build --format uki refuses on a host that cannot build UKIs, with the true reasons and their fixes', { skip: spawnSync('mkosi', ['--version']).status !== 0 ? 'mkosi missing' : ukiReady ? 'this host can build UKIs (the toolchain tier builds one); the refusal is unit-tested with each missing piece' : false }, async () => {
  const systemd = Number(/^systemd (\d+)/.exec(spawnSync('systemctl', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? NaN);
  const ukify = ['/usr/bin/ukify', '/usr/lib/systemd/ukify'].find((p) => existsSync(p));
  const ukifyRuns = !!ukify && spawnSync(ukify, ['--version']).status === 0;
  const stub = existsSync('/usr/lib/systemd/boot/efi/linuxx64.efi.stub');
  const expected = [
    ...(systemd < 254 ? [/kernel-install of systemd \d+ cannot build a UKI/] : []),
    ...(!ukify ? [/ukify is not installed/] : !ukifyRuns ? [new RegExp(`${ukify} does not run \\(`)] : []),
    ...(!stub ? [/the EFI stub \(\/usr\/lib\/systemd\/boot\/efi\/linuxx64\.efi\.stub\) is missing[^\n]*\n\s+fix: apt-get install (-t bookworm-backports )?systemd-boot-efi/] : []),
  ];
  if (!expected.length) return; // This host can build UKIs: the toolchain tier builds one.
  const { dir, cleanup } = await tempDir();
  try {
    const out = path.join(dir, 'x.efi');
    const kver = readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/modules.dep`)) ?? '6.1.0-99-amd64';
    const r = await runCli(['build', '--format', 'uki', '--snapshot', fixture('btrfs-luks-tpm2'), '--kernel-version', kver, '-o', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot build yet:/);
    for (const re of expected) assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace');
    assert.ok(!existsSync(out) && !existsSync(`${out}.log`), 'nothing was built or written');
    // The same host builds cpio initrds: the UKI items are not in a cpio build's refusal (if it refuses at all).
    const cpio = await runCli(['build', '--snapshot', fixture('btrfs-luks-tpm2'), '--kernel-version', 'no-such-kernel', '-o', out]);
    assert.doesNotMatch(cpio.stderr, /EFI stub|ukify/);
  } finally {
    await cleanup();
  }
});
