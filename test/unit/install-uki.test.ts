/**
 * install --layout uki: the facts it reads from a root (systemd's version,
 * ukify, the stub, $BOOT, the command line, uki.conf's signing key) and what
 * install does with them, against temporary roots. A bookworm-shaped root
 * is refused with the true reasons; a trixie-shaped one (its real plugins,
 * a real PE as the stub, a real openssl certificate) gets a plan with
 * /etc/kernel/cmdline, the signing and the space estimate, and revert
 * undoes it. The real kernel-install building a UKI is the slow tier's
 * (test/slow/toolchain-kernel-install.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { findBoot, parseUkiConf, plannedCmdline, ukiSigning, describeSpace, estimateUkiSpace } from '../../src/install/uki.js';
import { detectUkiToolchain, parseSystemdVersion } from '../../src/uki/detect.js';
import { parseInspect } from '../../src/install/kernelinstall.js';
import { installCommand } from '../../src/commands/install.js';
import { revertCommand } from '../../src/commands/revert.js';
import { WizardError } from '../../src/errors.js';
import { hostFs } from '../../src/system/files.js';
import { systemRunner } from '../../src/system/run.js';
import { makeRoot, treeHash } from '../support/roots.js';
import { fixture, ROOT, tempDir } from '../helpers.js';

const SNAP = fixture('luks2-lvm-hibernate');
const haveKernelInstall = spawnSync('kernel-install', ['--version'], { stdio: 'ignore' }).status === 0;
const haveMkosi = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const skipInstall = !haveKernelInstall ? 'kernel-install missing' : !haveMkosi ? 'mkosi >= 24 missing (bash test/mkosi/setup-host.sh)' : false;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir('iw-uki-');
  try {
    await fn(dir);
  } finally {
    await cleanup();
  }
}

async function put(dir: string, p: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
  await writeFile(path.join(dir, p), content);
  await chmod(path.join(dir, p), mode);
}

test('systemd versions, inspect output and uki.conf as the tools write them', () => {
  assert.equal(parseSystemdVersion('systemd 257 (257.13-1~deb13u1)\n+PAM +AUDIT\n'), 257);
  assert.equal(parseSystemdVersion('kernel-install: unrecognized option\n'), null);
  // systemd 257's `kernel-install inspect --json=short` (trixie chroot, machine ID not committed: the os-release ID).
  assert.deepEqual(parseInspect('{"MachineID":"2725417d45ec4a6889bad88da906927a","KernelImageType":"pe","Layout":"other","BootRoot":"/boot","EntryTokenType":"os-id","EntryToken":"debian"}'), { bootRoot: '/boot', entryToken: 'debian' });
  // systemd 254's text form (this bookworm-backports host).
  assert.deepEqual(parseInspect('Boot Loader Entries:\n    $BOOT: /boot\n    Token: 3d1219c7c4c5404aaa1f6d2a48adfda4\n\nUsing plugins:\n'), { bootRoot: '/boot', entryToken: '3d1219c7c4c5404aaa1f6d2a48adfda4' });
  assert.equal(parseInspect('{"BootRoot":"/boot"}'), null);
  assert.equal(parseInspect('{not json'), null);
  assert.deepEqual(parseUkiConf('[UKI]\nSecureBootPrivateKey = /k1\n# SecureBootCertificate=/nope\nSecureBootCertificate=/c\nSecureBootPrivateKey=/k2\n[PCRSignature:x]\nSecureBootCertificate=/other\n'), { key: '/k2', cert: '/c' });
  assert.deepEqual(parseUkiConf('[PCRSignature:x]\nSecureBootPrivateKey=/k\n'), {});
});

test('$BOOT: where kernel-install finds entries or UKIs, else /boot', async () => {
  await withDir(async (dir) => {
    assert.deepEqual(await findBoot(hostFs(dir)), { dir: '/boot', why: 'no ESP or XBOOTLDR was found, so kernel-install falls back to it' });
    await mkdir(path.join(dir, 'boot/loader/entries'), { recursive: true });
    assert.equal((await findBoot(hostFs(dir))).dir, '/boot');
    await mkdir(path.join(dir, 'efi/EFI/Linux'), { recursive: true });
    assert.deepEqual(await findBoot(hostFs(dir)), { dir: '/efi', why: 'it has EFI/Linux/' });
  });
});

test('the command line: an existing file wins, then the snapshot, the root\'s /proc, the running system', async () => {
  await withDir(async (dir) => {
    const fs = hostFs(dir);
    const live = async () => 'BOOT_IMAGE=/vmlinuz-6.1 root=UUID=abc ro initrd=\\initrd quiet\n';
    let c = await plannedCmdline(fs, { snapshotCmdline: null, rooted: true, live });
    assert.deepEqual(c, { existing: null, options: ['root=UUID=abc', 'ro', 'quiet'], from: "this running system's /proc/cmdline (the root has none): check it is right for the machine that boots this root" });
    c = await plannedCmdline(fs, { snapshotCmdline: null, rooted: false, live });
    assert.match(c!.from, /^\/proc\/cmdline without the boot loader's BOOT_IMAGE= and initrd=/);
    await put(dir, 'proc/cmdline', 'BOOT_IMAGE=/x root=/dev/sda2\n');
    assert.deepEqual((await plannedCmdline(fs, { snapshotCmdline: null, rooted: true, live }))!.options, ['root=/dev/sda2']);
    c = await plannedCmdline(fs, { snapshotCmdline: 'BOOT_IMAGE=/y root=/dev/vg/root rd.lvm.vg=vg\n', rooted: true, live });
    assert.deepEqual(c, { existing: null, options: ['root=/dev/vg/root', 'rd.lvm.vg=vg'], from: "the snapshot's /proc/cmdline (the host it describes)" });
    await put(dir, 'usr/lib/kernel/cmdline', 'root=LABEL=vendor\n');
    assert.equal((await plannedCmdline(fs, { snapshotCmdline: 'root=/x', rooted: true, live }))!.existing, '/usr/lib/kernel/cmdline');
    await put(dir, 'etc/kernel/cmdline', '# mine\nroot=LABEL=r   rw\n');
    assert.deepEqual(await plannedCmdline(fs, { snapshotCmdline: 'root=/x', rooted: true, live }), { existing: '/etc/kernel/cmdline', options: ['root=LABEL=r', 'rw'], from: '/etc/kernel/cmdline' });
  });
});

test('signing: both halves and existing files, or the reason', async () => {
  await withDir(async (dir) => {
    const fs = hostFs(dir);
    assert.deepEqual(await ukiSigning(fs), { signing: null, problems: [] });
    await put(dir, 'usr/lib/kernel/uki.conf', '[UKI]\nSecureBootCertificate=/etc/sb/db.crt\n');
    const half = await ukiSigning(fs);
    assert.equal(half.signing, null);
    assert.match(half.problems.join('\n'), /\/usr\/lib\/kernel\/uki\.conf sets SecureBootCertificate but no SecureBootPrivateKey/);
    assert.match(half.problems.join('\n'), /SecureBootCertificate=\/etc\/sb\/db\.crt does not exist/);
    // /etc's wins over /usr/lib's, as 60-ukify.install looks.
    await put(dir, 'etc/kernel/uki.conf', '[UKI]\nSecureBootPrivateKey=/etc/sb/db.key\nSecureBootCertificate=/etc/sb/db.crt\nSecureBootSigningTool=systemd-sbsign\n');
    await put(dir, 'etc/sb/db.key', 'k');
    await put(dir, 'etc/sb/db.crt', 'c');
    assert.deepEqual(await ukiSigning(fs), { signing: { conf: '/etc/kernel/uki.conf', key: '/etc/sb/db.key', cert: '/etc/sb/db.crt', tool: 'systemd-sbsign' }, problems: [] });
  });
});

test('the space estimate says what it counts', () => {
  const e = estimateUkiSpace(10 << 20, 40 << 20, 'the built image', 0);
  assert.equal(e.need, (50 << 20) + 200 * 1024);
  assert.equal(describeSpace('/efi', e, 1 << 30), '$BOOT /efi needs about 50.2 MiB for the UKI (an estimate: kernel 10.0 MiB + initrd 40.0 MiB (the built image) + ~200.0 KiB for the stub); it has 1.0 GiB free');
  assert.match(describeSpace('/boot', estimateUkiSpace(0, 0, 'x', 30 << 20), null), /kernel \(no image found for this kernel version: not counted\).*plus 30\.0 MiB to keep the current UKI as the fallback\)$/);
});

/** A root whose systemd is `systemd` (by its libsystemd-shared), with or without ukify and the stub. */
async function ukiRoot(dir: string, systemd: number, tools: boolean): Promise<void> {
  await makeRoot(dir, 'commented-install-conf');
  await put(dir, `usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-${systemd}.so`, '');
  if (!tools) return;
  for (const p of ['60-ukify.install', '90-uki-copy.install']) await copyFile(path.join(ROOT, 'test/fixtures/kernel-install-plugins/trixie-257', p), path.join(dir, 'usr/lib/kernel/install.d', p));
  await put(dir, 'usr/bin/ukify', '#!/usr/bin/python3\n', 0o755);
  // A real PE where the stub lives (ukify's output, which starts from the stub).
  await put(dir, 'usr/lib/systemd/boot/efi/linuxx64.efi.stub', await readFile(path.join(ROOT, 'test/fixtures/uki/tiny.efi')));
}

const refusal = async (p: Promise<unknown>): Promise<WizardError> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof WizardError) return err;
    throw err;
  }
  assert.fail('install went ahead');
};

test('bookworm (systemd 252, no ukify, no stub): refused with every true reason, nothing written', { skip: skipInstall }, async () => {
  await withDir(async (dir) => {
    await ukiRoot(dir, 252, false);
    const before = await treeHash(dir);
    const t = await detectUkiToolchain(systemRunner, hostFs(dir), { rooted: true, mkosiMajor: 24, family: 'debian' });
    assert.deepEqual([t.systemd, t.systemdFrom], [252, '/usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so in the root']);
    const e = await refusal(installCommand({ root: dir, snapshot: SNAP, layout: 'uki', yes: true, force: true }));
    assert.equal(e.exitCode, 1, 'a host that cannot do it, not bad input');
    assert.match(e.message, /kernel-install of systemd 252 cannot build a UKI: its plugins get no image type and there is no 60-ukify\.install before systemd 254 \(fix: upgrade systemd to 254 or later \(Debian 12: bookworm-backports\), or keep layout=bls\)/);
    assert.match(e.message, /ukify is not installed; both systemd's and mkosi's UKI generators run it \(fix: apt-get install -t bookworm-backports systemd python3-pefile\)/);
    assert.match(e.message, /the EFI stub \(\/usr\/lib\/systemd\/boot\/efi\/linuxx64\.efi\.stub\) is missing: .* \(fix: apt-get install -t bookworm-backports systemd-boot-efi\)/);
    // Debian 12's ukify comes with backports' systemd; there is no systemd-ukify package for it.
    assert.doesNotMatch(e.message, /systemd-ukify/);
    assert.equal(e.hint, 'nothing was changed; fix the items above and run install again');
    assert.equal(await treeHash(dir), before);
  });
});

test('--uki-generator: mkosi refused on mkosi < 25, and bad values are input errors', { skip: skipInstall }, async () => {
  await withDir(async (dir) => {
    await ukiRoot(dir, 257, true);
    const mk = Number(/mkosi (\d+)/.exec(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout)?.[1]);
    if (mk < 25) {
      const e = await refusal(installCommand({ root: dir, snapshot: SNAP, layout: 'uki', ukiGenerator: 'mkosi', dryRun: true, force: true }));
      assert.equal(e.exitCode, 1);
      assert.match(e.message, new RegExp(`uki_generator=mkosi needs mkosi >= 25: the plugin of mkosi ${mk} writes its UKI under a name kernel-install does not copy to the ESP \\(fix: use uki_generator=ukify`));
    }
    // A generator that is neither is refused by the CLI's choices (install.test.ts) and cannot be typed here.
    const bls = await refusal(installCommand({ root: dir, snapshot: SNAP, ukiGenerator: 'ukify', dryRun: true, force: true }));
    assert.equal(bls.exitCode, 2);
    assert.match(bls.message, /--uki-generator only applies to --layout uki/);
    // 60-ukify.install masked: kernel-install would build no UKI.
    await mkdir(path.join(dir, 'etc/kernel/install.d'), { recursive: true });
    execFileSync('ln', ['-s', '/dev/null', path.join(dir, 'etc/kernel/install.d/60-ukify.install')]);
    const masked = await refusal(installCommand({ root: dir, snapshot: SNAP, layout: 'uki', dryRun: true, force: true }));
    assert.match(masked.message, /kernel-install's 60-ukify\.install is missing or masked in the root, so no UKI would reach \$BOOT\/EFI\/Linux/);
  });
});

test('trixie-shaped root: the plan writes /etc/kernel/cmdline, says the UKI is signed with which certificate and what $BOOT needs; revert undoes it', { skip: skipInstall || (spawnSync('openssl', ['version']).status !== 0 ? 'openssl missing' : false) }, async () => {
  await withDir(async (dir) => {
    await ukiRoot(dir, 257, true);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=initrd-wizard unit test', '-keyout', path.join(dir, 'etc/kernel/sb.key'), '-out', path.join(dir, 'etc/kernel/sb.crt')], { stdio: 'ignore' });
    await put(dir, 'etc/kernel/uki.conf', '[UKI]\nSecureBootPrivateKey=/etc/kernel/sb.key\nSecureBootCertificate=/etc/kernel/sb.crt\n');
    const before = await treeHash(dir);
    const dry = await installCommand({ root: dir, snapshot: SNAP, layout: 'uki', dryRun: true, force: true });
    assert.equal(dry.exitCode, 0);
    const j = dry.json as { uki: { generator: string; boot: string; cmdline: string; signed: { certificate: string } }; notes: string[]; changes: Array<{ path: string; why: string }>; diff: string };
    assert.equal(j.uki.generator, 'ukify');
    assert.equal(j.uki.boot, '/boot');
    const snapCmdline = (await readFile(path.join(SNAP, 'cmdline'), 'utf8')).trim();
    assert.equal(j.uki.cmdline, snapCmdline);
    assert.deepEqual(j.changes.find((c) => c.path === '/etc/kernel/cmdline'), { path: '/etc/kernel/cmdline', kind: 'file', target: undefined, why: "the command line ukify puts into the UKI, from the snapshot's /proc/cmdline (the host it describes)" });
    assert.ok(j.diff.includes(`+++ /etc/kernel/cmdline`) && j.diff.includes(`+${snapCmdline}\n`), 'the cmdline file in the diff');
    assert.ok(j.notes.some((n) => /^uki_generator=ukify: systemd 257's 60-ukify\.install .*; systemd 257 \(\/usr\/lib\/x86_64-linux-gnu\/systemd\/libsystemd-shared-257\.so in the root\), ukify \/usr\/bin\/ukify, the EFI stub \/usr\/lib\/systemd\/boot\/efi\/linuxx64\.efi\.stub \(systemd-boot-efi\)$/.test(n)), j.notes.join('\n'));
    assert.ok(j.notes.some((n) => /^the UKI will be signed for Secure Boot by ukify \(sbsign, from \/etc\/kernel\/uki\.conf\) with the certificate \/etc\/kernel\/sb\.crt \(CN ?= ?initrd-wizard unit test\)/.test(n)), j.notes.join('\n'));
    assert.ok(j.notes.some((n) => /^\$BOOT \/boot needs about .* for the UKI \(an estimate: kernel .* \+ initrd .* \+ ~200\.0 KiB for the stub\); it has .* free \(\$BOOT is \/boot: it has loader\/entries\/\)$/.test(n)), j.notes.join('\n'));
    assert.equal(await treeHash(dir), before, 'a dry run writes nothing');

    const r = await installCommand({ root: dir, snapshot: SNAP, layout: 'uki', yes: true, force: true });
    assert.equal(r.exitCode, 0, r.text);
    assert.equal(await readFile(path.join(dir, 'etc/kernel/cmdline'), 'utf8'), `${snapCmdline}\n`);
    const conf = await readFile(path.join(dir, 'etc/kernel/install.conf'), 'utf8');
    assert.match(conf, /^layout=uki$/m);
    assert.match(conf, /^uki_generator=ukify$/m);
    // Again: the cmdline written by the first run is now the one in force, and nothing changes.
    const again = await installCommand({ root: dir, snapshot: SNAP, layout: 'uki', yes: true, force: true });
    assert.match(again.text, /^Nothing to change/m);
    assert.ok((again.json as { notes: string[] }).notes.some((n) => n.startsWith("the UKI's command line comes from /etc/kernel/cmdline as it is: ")));
    const rv = await revertCommand({ root: dir });
    assert.equal(rv.exitCode, 0);
    assert.equal(existsSync(path.join(dir, 'etc/kernel/cmdline')), false);
    assert.equal(await treeHash(dir), before, 'the root byte for byte as before');
  });
});

test('doctor on a layout=uki root: what kernel-install lacks for the UKI, and the unset generator before systemd 257', async () => {
  const { doctorCommand } = await import('../../src/commands/doctor.js');
  await withDir(async (dir) => {
    await ukiRoot(dir, 254, false);
    await writeFile(path.join(dir, 'etc/kernel/install.conf'), 'layout=uki\ninitrd_generator=mkosi-initrd\n');
    const r = await doctorCommand({ snapshot: SNAP, fs: hostFs(dir) });
    const items = (r.json as { items: Array<{ id: string; ok: boolean; detail: string }> }).items;
    const failed = items.filter((i) => !i.ok && i.id.startsWith('uki')).map((i) => i.detail);
    assert.ok(failed.some((d) => d.startsWith('ukify is not installed')), failed.join('\n'));
    assert.ok(failed.some((d) => d.startsWith('the EFI stub')), failed.join('\n'));
    assert.ok(failed.some((d) => d.startsWith('layout=uki without uki_generator: kernel-install of systemd 254 builds no UKI')), failed.join('\n'));
    assert.equal(r.exitCode, 1);
  });
});

test('--regenerate into a root runs this system\'s ukify and stub: refused when this system lacks them', { skip: skipInstall || (existsSync('/usr/lib/systemd/boot/efi/linuxx64.efi.stub') && (existsSync('/usr/bin/ukify') || existsSync('/usr/lib/systemd/ukify')) ? 'this system can build UKIs' : false) }, async () => {
  await withDir(async (dir) => {
    await ukiRoot(dir, 257, true);
    const before = await treeHash(dir);
    const e = await refusal(installCommand({ root: dir, snapshot: SNAP, layout: 'uki', yes: true, force: true, regenerate: true }));
    assert.equal(e.exitCode, 1);
    assert.match(e.message, /--regenerate with --root runs this system's kernel-install, ukify and stub, not the root's: /);
    assert.doesNotMatch(e.message, /--layout uki: /, 'the root itself is fine');
    assert.equal(await treeHash(dir), before);
  });
});

test('a UKI kernel-install wrote is adopted into the journal: revert removes it (or puts the previous one back), refusing first when it changed since', async () => {
  const { Root } = await import('../../src/install/fsops.js');
  const { Transaction } = await import('../../src/install/transaction.js');
  for (const previous of [null, Buffer.from('MZ previous UKI\0\0')]) {
    await withDir(async (dir) => {
      await mkdir(path.join(dir, 'etc/kernel'), { recursive: true });
      await mkdir(path.join(dir, 'boot/loader/entries'), { recursive: true });
      if (previous) await put(dir, 'boot/EFI/Linux/debian-6.12.0.efi', previous);
      const start = await treeHash(dir);
      const root = new Root(dir);
      const tx = new Transaction(root);
      const release = await tx.lock();
      try {
        await tx.apply({ changes: [{ path: '/etc/kernel/install.conf', kind: 'file', content: 'layout=uki\n', mode: 0o644, why: 'test' }] });
        const target = '/boot/EFI/Linux/debian-6.12.0.efi';
        const before = await root.state(target);
        const created = previous ? [] : ['/boot/EFI', '/boot/EFI/Linux'];
        // What 90-uki-copy.install does: a new UKI at the target (binary, with NULs).
        await put(dir, target.slice(1), Buffer.concat([Buffer.from('MZ new UKI'), Buffer.alloc(70 * 1024)]));
        await tx.adopt([{ path: target, before }], created);
        await writeFile(path.join(dir, target), Buffer.concat([Buffer.from('MZ rebuilt'), Buffer.alloc(70 * 1024)]));
        await assert.rejects(tx.revert(false), (e: Error) => /files changed since the install/.test(e.message) && /\(a binary file of 71690 bytes, sha256 [0-9a-f]{12}…\)/.test(e.message) && e.message.length < 4000);
        await tx.revert(true);
      } finally {
        await tx.cleanup(release);
      }
      assert.equal(await treeHash(dir), start, previous ? 'the previous UKI is back' : 'the UKI and the EFI/Linux directories made for it are gone');
    });
  }
});

test('an install --layout uki killed at any step (the cmdline file among them) is recovered, and revert restores the root exactly', { skip: skipInstall, timeout: 600_000 }, async () => {
  const { runCli } = await import('../helpers.js');
  let tried = 0;
  for (let k = 1; k < 50; k++) {
    const done = await (async () => {
      const { dir, cleanup } = await tempDir('iw-uki-fault-');
      try {
        await ukiRoot(dir, 257, true);
        const original = await treeHash(dir);
        const r = await runCli(['install', '--root', dir, '--snapshot', SNAP, '--layout', 'uki', '--yes', '--force'], { INITRD_WIZARD_FAULT: `apply:${k}` });
        if (r.signal !== 'SIGKILL') {
          assert.equal(r.code, 0, r.stderr);
          assert.ok(existsSync(path.join(dir, 'etc/kernel/cmdline')), 'the last run wrote the cmdline');
          return true;
        }
        tried++;
        for (let i = 0; i < 2; i++) {
          const rv = await runCli(['revert', '--root', dir]);
          assert.ok(rv.code === 0 || /nothing to revert/.test(rv.stderr), rv.stderr);
        }
        assert.equal(await treeHash(dir), original, `byte-identical after a kill at apply step ${k}`);
        return false;
      } finally {
        await cleanup();
      }
    })();
    if (done) break;
  }
  assert.ok(tried >= 6, `kill points tried: ${tried}`);
});

test('ukify that does not run (python3-pefile missing) is refused on this system, with the fix', { skip: spawnSync('python3', ['--version']).status !== 0 ? 'python3 missing' : false }, async () => {
  const { ukiFacts } = await import('../../src/install/uki.js');
  await withDir(async (dir) => {
    await ukiRoot(dir, 257, true);
    // ukify's own first lines: a module it imports is missing.
    await put(dir, 'usr/bin/ukify', '#!/usr/bin/python3\nimport sys\nsys.path.clear()\nimport pefile\n', 0o755);
    const f = await ukiFacts({ fs: hostFs(dir), runner: systemRunner, rooted: false, mkosiMajor: 25, family: 'debian', snapshotCmdline: 'root=/dev/sda1', kver: '6.12.0' });
    assert.ok(f.problems.some((p) => /^--layout uki: \/usr\/bin\/ukify does not run \(ModuleNotFoundError: No module named 'pefile'\): 60-ukify\.install would fail at every kernel-install \(fix: apt-get install python3-pefile\)$/.test(p)), f.problems.join('\n'));
    // In another root it is not run (it would run against this system's Python).
    const rooted = await ukiFacts({ fs: hostFs(dir), runner: systemRunner, rooted: true, mkosiMajor: 25, family: 'debian', snapshotCmdline: 'root=/dev/sda1', kver: '6.12.0' });
    assert.ok(!rooted.problems.some((p) => p.includes('does not run')));
  });
});
