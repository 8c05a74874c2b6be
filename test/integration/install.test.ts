/**
 * install and revert against temporary roots, checked with the real
 * kernel-install (KERNEL_INSTALL_CONF_ROOT, BOOT_ROOT, MACHINE_ID,
 * KERNEL_INSTALL_PLUGINS point it at the tree). The mkosi-initrd that the
 * plugin calls is a stand-in here (it writes a marker initrd); the slow tier
 * runs the real one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile, readdir, lstat, readlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeRoot, treeHash, type StartTree } from '../support/roots.js';
import { discoverPlugins } from '../../src/install/kernelinstall.js';
import { Root } from '../../src/install/fsops.js';
import { CLI, fixture, runCli, tempDir, isRoot } from '../helpers.js';

const haveKernelInstall = spawnSync('kernel-install', ['--version'], { stdio: 'ignore' }).status === 0;
const haveMkosi = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const skip = !haveKernelInstall ? 'kernel-install missing' : !haveMkosi ? 'mkosi >= 24 missing (bash test/mkosi/setup-host.sh)' : false;
const SNAP = fixture('luks2-lvm-hibernate');
const install = (root: string, ...extra: string[]) => runCli(['install', '--root', root, '--snapshot', SNAP, '--yes', '--force', '--json', ...extra]);
const revert = (root: string, ...extra: string[]) => runCli(['revert', '--root', root, '--json', ...extra]);

/** The real kernel-install, as the tree's configuration says; returns what landed in the boot tree. */
async function kernelInstall(root: string, stub: string): Promise<{ initrd: string | null; dracutRan: boolean; entries: string[] }> {
  await writeFile(path.join(root, 'vmlinuz'), 'not really a kernel\n');
  const env = {
    ...process.env,
    PATH: `${stub}:${process.env.PATH}`,
    KERNEL_INSTALL_CONF_ROOT: path.join(root, 'etc/kernel'),
    BOOT_ROOT: path.join(root, 'boot'),
    MACHINE_ID: '0123456789abcdef0123456789abcdef',
    KERNEL_INSTALL_PLUGINS: (await discoverPlugins(new Root(root))).join(' '),
  };
  await new Promise<void>((resolve, reject) =>
    execFile('kernel-install', ['add', '6.1.0-99-amd64', path.join(root, 'vmlinuz')], { env }, (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())),
  );
  const dir = path.join(root, 'boot/0123456789abcdef0123456789abcdef/6.1.0-99-amd64');
  const initrd = existsSync(path.join(dir, 'initrd')) ? await readFile(path.join(dir, 'initrd'), 'utf8') : null;
  return { initrd, dracutRan: initrd === 'built by dracut\n', entries: await readdir(path.join(root, 'boot/loader/entries')).catch(() => []) };
}

async function stubMkosiInitrd(dir: string): Promise<string> {
  const bin = path.join(dir, 'stub-bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, 'mkosi-initrd'), '#!/bin/sh\n# stand-in for mkosi-initrd (the slow tier runs the real one)\nwhile [ $# -gt 0 ]; do case "$1" in -O) out=$2; shift;; esac; shift; done\necho "built by mkosi-initrd" > "$out/initrd.cpio.zst"\nln -s initrd.cpio.zst "$out/initrd"\n');
  await chmod(path.join(bin, 'mkosi-initrd'), 0o755);
  return bin;
}

/** A fresh temporary root of the given start tree, removed afterwards. */
async function withRoot(kind: StartTree, fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir('iw-root-');
  try {
    await makeRoot(dir, kind);
    await fn(dir);
  } finally {
    await cleanup();
  }
}

const TREES: StartTree[] = ['no-install-conf', 'vendor-install-conf', 'commented-install-conf', 'yielding-dracut', 'existing-mask'];

for (const kind of TREES) {
  test(`install and revert on a root with ${kind}`, { skip }, async () => {
    const { dir, cleanup } = await tempDir('iw-root-');
    try {
      const root = path.join(dir, 'root');
      await mkdir(root);
      await makeRoot(root, kind);
      const original = await treeHash(root, ['boot', 'vmlinuz']);
      const stub = await stubMkosiInitrd(dir);

      const r = await install(root);
      assert.equal(r.code, 0, r.stderr);
      const conf = await readFile(path.join(root, 'etc/kernel/install.conf'), 'utf8');
      assert.equal(conf.match(/^initrd_generator=/gm)?.length, 1, 'never duplicated');
      assert.match(conf, /^initrd_generator=mkosi-initrd$/m);
      if (kind === 'commented-install-conf') {
        assert.equal(conf, '# Local kernel-install settings\nlayout=bls   \n\n# which initrd generator\ninitrd_generator=mkosi-initrd\n# uki_generator=ukify\nverbose=0\n', 'every other line kept byte for byte');
        assert.equal((await lstat(path.join(root, 'etc/kernel/install.conf'))).mode & 0o777, 0o640, 'mode kept');
      }
      if (kind === 'vendor-install-conf') assert.equal(conf, '# vendor defaults\nlayout=bls\ninitrd_generator=mkosi-initrd\n');
      const mask = path.join(root, 'etc/kernel/install.d/50-dracut.install');
      if (kind === 'yielding-dracut') assert.equal(existsSync(mask), false, 'a yielding dracut plugin is left alone');
      else assert.equal(await readlink(mask), '/dev/null');
      assert.match(await readFile(path.join(root, 'etc/mkosi-initrd/mkosi.conf.d/50-initrd-wizard.conf'), 'utf8'), /^Packages=(\S+\n\s+)*lvm2$/m, 'the variant\'s packages (lvm2 for this LVM snapshot)');
      for (const f of ['etc/mkosi-initrd', 'etc/mkosi-initrd/mkosi.conf.d']) assert.equal((await lstat(path.join(root, f))).mode & 0o777, 0o755);
      assert.equal((await lstat(path.join(root, 'etc/mkosi-initrd/mkosi.conf.d/50-initrd-wizard.conf'))).mode & 0o777, 0o644);
      assert.equal((await lstat(path.join(root, 'var/lib/initrd-wizard'))).mode & 0o777, 0o700, 'the journal directory is root-only');

      const booted = await kernelInstall(root, stub);
      assert.equal(booted.initrd, 'built by mkosi-initrd\n', 'kernel-install ran the mkosi-initrd plugin');
      assert.equal(booted.dracutRan, false, 'dracut did not run');

      const again = await install(root);
      assert.equal(again.code, 0);
      assert.equal(JSON.parse(again.stdout).applied, false, 're-running with the same variant changes nothing');
      assert.deepEqual(JSON.parse(again.stdout).changes, []);

      const rv = await revert(root);
      assert.equal(rv.code, 0, rv.stderr);
      // The boot tree is kernel-install's own, not install's: everything else must be as it was.
      assert.equal(await treeHash(root, ['boot', 'vmlinuz']), original, 'byte-identical to the start tree');

      const { rm } = await import('node:fs/promises');
      await rm(path.join(root, 'boot/0123456789abcdef0123456789abcdef/6.1.0-99-amd64'), { recursive: true });
      const after = await kernelInstall(root, stub);
      if (kind === 'existing-mask') assert.equal(after.initrd, null, 'the mask the user had stays, and mkosi-initrd no longer runs');
      else assert.equal(after.initrd, 'built by dracut\n', 'kernel-install is back to dracut, and mkosi-initrd no longer runs');
    } finally {
      await cleanup();
    }
  });
}

test('where kernel-install would pick layout=other, install writes layout=bls and the initrd lands in a BLS entry (our plugin on this mkosi)', { skip }, async () => {
  const { dir, cleanup } = await tempDir('iw-root-');
  try {
    const root = path.join(dir, 'root');
    await mkdir(root);
    await makeRoot(root, 'no-install-conf');
    const { rm } = await import('node:fs/promises');
    // No $BOOT/<entry token> and no loader entries yet, as on a Debian machine without systemd-boot.
    await rm(path.join(root, 'boot'), { recursive: true });
    await mkdir(path.join(root, 'boot'));
    const stub = await stubMkosiInitrd(dir);
    const r = await install(root);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { plugin: { path: string; owner: string }; changes: Array<{ path: string; why: string }> };
    const mkosiPlugin = existsSync('/usr/lib/kernel/install.d/50-mkosi.install');
    assert.deepEqual(out.plugin, mkosiPlugin ? { path: '/usr/lib/kernel/install.d/50-mkosi.install', owner: 'mkosi' } : { path: '/etc/kernel/install.d/50-mkosi-initrd.install', owner: 'initrd-wizard' });
    assert.match(await readFile(path.join(root, 'etc/kernel/install.conf'), 'utf8'), /^layout=bls$/m);
    assert.match(out.changes.find((c) => c.path === '/etc/kernel/install.conf')!.why, /layout=bls: left unset, kernel-install picks "other"/);
    const booted = await kernelInstall(root, stub);
    assert.equal(booted.initrd, 'built by mkosi-initrd\n', 'the initrd is in $BOOT/<token>/<kver>/');
    assert.deepEqual(booted.entries, ['0123456789abcdef0123456789abcdef-6.1.0-99-amd64.conf']);
    assert.equal((await revert(root)).code, 0);
  } finally {
    await cleanup();
  }
});

test('install.conf as a symlink is refused with an explanation, nothing changed', { skip }, async () => {
  await withRoot('symlinked-install-conf', async (dir) => {
    const before = await treeHash(dir);
    const r = await install(dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /install\.conf is a symlink \(to \/srv\/install\.conf\)/);
    assert.match(r.stderr, /next step: replace the link with a regular file/);
    assert.equal(await treeHash(dir), before);
  });
});

test('a read-only /etc is a clear error and nothing changes', { skip: skip || (!isRoot && 'needs root for a read-only bind mount') }, async () => {
  const { dir, cleanup } = await tempDir('iw-root-');
  const etc = path.join(dir, 'etc');
  try {
    await makeRoot(dir, 'commented-install-conf');
    const before = await treeHash(dir);
    assert.equal(spawnSync('mount', ['--bind', etc, etc]).status, 0);
    assert.equal(spawnSync('mount', ['-o', 'remount,bind,ro', etc]).status, 0);
    const r = await install(dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /etc is not writable \(read-only file system/);
    assert.match(r.stderr, /nothing was changed/);
    spawnSync('umount', [etc]);
    assert.equal(await treeHash(dir), before);
  } finally {
    spawnSync('umount', [etc]);
    await cleanup();
  }
});

test('revert refuses over files changed since the install, shows the diff, and --force restores', { skip }, async () => {
  await withRoot('commented-install-conf', async (dir) => {
    const before = await treeHash(dir);
    assert.equal((await install(dir)).code, 0);
    const confPath = path.join(dir, 'etc/kernel/install.conf');
    await writeFile(confPath, (await readFile(confPath, 'utf8')) + 'edited_by_admin=1\n');
    const refused = await revert(dir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /files changed since the install/);
    assert.match(refused.stderr, /\+edited_by_admin=1/);
    // The command suggested is the one to type: this program as the shell can run it, with the same --root.
    assert.ok(refused.stderr.includes(`\`node ${CLI} revert --force --root ${dir}\``), refused.stderr);
    const forced = await revert(dir, '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await treeHash(dir), before);
  });
});

test('--dry-run shows the diff and writes nothing', { skip }, async () => {
  await withRoot('commented-install-conf', async (dir) => {
    const before = await treeHash(dir);
    const r = await runCli(['install', '--root', dir, '--snapshot', SNAP, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-initrd_generator=dracut$/m);
    assert.match(r.stdout, /^\+initrd_generator=mkosi-initrd$/m);
    assert.match(r.stdout, /\+symlink → \/dev\/null/);
    assert.equal(await treeHash(dir), before);
  });
});

test('without --yes and without a terminal, install asks for --yes and changes nothing', { skip }, async () => {
  await withRoot('no-install-conf', async (dir) => {
    const before = await treeHash(dir);
    const r = await runCli(['install', '--root', dir, '--snapshot', SNAP, '--force']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--yes/);
    assert.equal(await treeHash(dir), before);
  });
});

test('an unsupported host is not switched', { skip }, async () => {
  await withRoot('no-install-conf', async (dir) => {
    const r = await runCli(['install', '--root', dir, '--snapshot', fixture('multipath'), '--yes']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /multipath/);
  });
});

test('a variant that was never built is refused without --force', { skip }, async () => {
  await withRoot('no-install-conf', async (dir) => {
    const r = await runCli(['install', '--root', dir, '--snapshot', SNAP, '--yes'], { XDG_CACHE_HOME: path.join(dir, 'empty-cache') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has not been built and checked yet: run `initrd-wizard build` first/);
  });
});

void CLI;

test('--layout uki on a bookworm-shaped root (systemd 252, no ukify, no stub) is refused with the reasons, exit 1, nothing written', { skip }, async () => {
  await withRoot('commented-install-conf', async (dir) => {
    await mkdir(path.join(dir, 'usr/lib/x86_64-linux-gnu/systemd'), { recursive: true });
    await writeFile(path.join(dir, 'usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so'), '');
    const before = await treeHash(dir);
    const r = await install(dir, '--layout', 'uki');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /not installing:\n  - --layout uki: kernel-install of systemd 252 cannot build a UKI/);
    assert.match(r.stderr, /ukify is not installed/);
    assert.match(r.stderr, /the EFI stub \(\/usr\/lib\/systemd\/boot\/efi\/linuxx64\.efi\.stub\) is missing/);
    assert.doesNotMatch(r.stderr, /at \w+ \(|node:internal/, 'no stack trace');
    assert.equal(await treeHash(dir), before);
    const bad = await install(dir, '--layout', 'uki', '--uki-generator', 'dracut');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /'--uki-generator <generator>' argument 'dracut' is invalid\. Allowed choices are ukify, mkosi/);
  });
});

test('a second run while one holds the lock is refused', { skip }, async () => {
  await withRoot('no-install-conf', async (dir) => {
    await mkdir(path.join(dir, 'var/lib/initrd-wizard'), { mode: 0o700 });
    const lockFile = path.join(dir, 'var/lib/initrd-wizard/lock');
    await writeFile(lockFile, '4242\n');
    // A real holder of the kernel lock, as a running install would be.
    const holder = spawn('flock', ['--exclusive', lockFile, 'sleep', '30'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && spawnSync('flock', ['--nonblock', lockFile, 'true']).status === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const r = await install(dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /another initrd-wizard run \(pid 4242\) is installing or reverting/);
      assert.equal(existsSync(path.join(dir, 'etc/kernel/install.conf')), false);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

test('a lock file left by a dead run, even naming a live PID such as 1, does not block', { skip }, async () => {
  await withRoot('no-install-conf', async (dir) => {
    const start = await treeHash(dir);
    await mkdir(path.join(dir, 'var/lib/initrd-wizard'), { mode: 0o700 });
    await writeFile(path.join(dir, 'var/lib/initrd-wizard/lock'), '1\n');
    const r = await install(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await revert(dir)).code, 0);
    assert.equal(await treeHash(dir), start, 'the state directory and its lock are gone again');
  });
});

test('revert with nothing to revert creates nothing in the root', { skip }, async () => {
  const { dir, cleanup } = await tempDir('iw-norevert-');
  try {
    await mkdir(path.join(dir, 'etc'));
    const r = await revert(dir);
    // Nothing on record is the state a revert reaches: success, said plainly, with nothing to do.
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { root: dir, recovered: null, restored: [] });
    const text = await runCli(['revert', '--root', dir]);
    assert.equal(text.code, 0);
    assert.equal(text.stdout.trim(), `Nothing to revert under ${dir}: initrd-wizard has no install on record there (no ${dir}/var/lib/initrd-wizard/journal.json).`);
    assert.equal(text.stderr, '');
    assert.deepEqual(await readdir(dir), ['etc']);
  } finally {
    await cleanup();
  }
});

test('a root whose kernel updates run only /etc/kernel/postinst.d hooks is told that kernel-install, not the next kernel update, builds with mkosi-initrd', { skip }, async () => {
  await withRoot('commented-install-conf', async (dir) => {
    await mkdir(path.join(dir, 'etc/kernel/postinst.d'), { recursive: true });
    // Debian's initramfs-tools hook: update-initramfs, no kernel-install.
    await writeFile(path.join(dir, 'etc/kernel/postinst.d/initramfs-tools'), '#!/bin/sh\nexec update-initramfs -c -k "$1"\n', { mode: 0o755 });
    const only = await runCli(['install', '--root', dir, '--snapshot', SNAP, '--dry-run']);
    assert.equal(only.code, 0, only.stderr);
    assert.match(only.stdout, /note: no hook in \/etc\/kernel\/postinst\.d runs kernel-install .*mkosi-initrd builds when kernel-install runs/);
    // systemd-boot's hook runs kernel-install on every kernel update: nothing to warn about.
    await writeFile(path.join(dir, 'etc/kernel/postinst.d/zz-systemd-boot'), '#!/bin/sh\nkernel-install add "$1" "$2"\n', { mode: 0o755 });
    const hooked = await runCli(['install', '--root', dir, '--snapshot', SNAP, '--dry-run']);
    assert.equal(hooked.code, 0, hooked.stderr);
    assert.doesNotMatch(hooked.stdout, /no hook in \/etc\/kernel\/postinst\.d/);
  });
});
