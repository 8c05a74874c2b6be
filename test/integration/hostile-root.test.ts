/**
 * A root is untrusted: links in it never lead a read, write or delete outside
 * it (not even with --force), its journal is checked before it is believed,
 * and a full or immutable target is refused before the first write. (Faults
 * injected at every single write: test/slow/errno-faults.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, rm, symlink, writeFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeRoot, treeHash } from '../support/roots.js';
import { install, revert } from '../support/faults.js';
import { fixture, isRoot, runCli, tempDir } from '../helpers.js';

const skip = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '') ? false : 'mkosi >= 24 missing';
const SECRET = 'TOP-SECRET-outside-the-root';

/** A root and, beside it, a directory outside it holding a secret install.conf. */
async function withRootAndOutside(fn: (root: string, outside: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir('iw-hostile-');
  try {
    const root = path.join(dir, 'root');
    const outside = path.join(dir, 'outside');
    await mkdir(root);
    await mkdir(path.join(outside, 'install.d'), { recursive: true });
    await writeFile(path.join(outside, 'install.conf'), `${SECRET}\n`);
    await writeFile(path.join(outside, 'install.d', '50-dracut.install'), `${SECRET}\n`);
    await makeRoot(root, 'commented-install-conf');
    await fn(root, outside);
  } finally {
    await cleanup();
  }
}

async function outsideIntact(outside: string): Promise<void> {
  assert.equal(await readFile(path.join(outside, 'install.conf'), 'utf8'), `${SECRET}\n`);
  assert.equal(await readFile(path.join(outside, 'install.d', '50-dracut.install'), 'utf8'), `${SECRET}\n`);
}

async function linkEtcKernelOutside(root: string, outside: string): Promise<void> {
  await rm(path.join(root, 'etc/kernel'), { recursive: true, force: true });
  await symlink(outside, path.join(root, 'etc/kernel'));
}

test('revert --force does not delete through /etc/kernel linked outside the root, nor print what is there', { skip }, async () => {
  await withRootAndOutside(async (root, outside) => {
    assert.equal((await install(root)).code, 0);
    await linkEtcKernelOutside(root, outside);
    for (const args of [[], ['--force']]) {
      const r = await runCli(['revert', '--root', root, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /etc\/kernel is a symlink .*does not follow links/);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    await outsideIntact(outside);
  });
});

test('install --dry-run does not read through /etc/kernel linked outside the root', { skip }, async () => {
  await withRootAndOutside(async (root, outside) => {
    await linkEtcKernelOutside(root, outside);
    const r = await runCli(['install', '--root', root, '--snapshot', fixture('luks2-lvm-hibernate'), '--dry-run', '--force']);
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
    await outsideIntact(outside);
  });
});

test('a symlinked /etc/mkosi-initrd is refused before the first write', { skip }, async () => {
  await withRootAndOutside(async (root, outside) => {
    await symlink(outside, path.join(root, 'etc/mkosi-initrd'));
    const start = await treeHash(root);
    const r = await install(root);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /mkosi-initrd is a symlink/);
    assert.equal(await treeHash(root), start);
    assert.deepEqual((await readdir(outside)).sort(), ['install.conf', 'install.d']);
  });
});

test('a journal linked to a file outside the root is refused without showing its content', { skip }, async () => {
  await withRootAndOutside(async (root, outside) => {
    assert.equal((await install(root)).code, 0);
    const journal = path.join(root, 'var/lib/initrd-wizard/journal.json');
    await rm(journal);
    await symlink(path.join(outside, 'install.conf'), journal);
    for (const args of [['revert', '--root', root], ['install', '--root', root, '--snapshot', fixture('luks2-lvm-hibernate'), '--yes', '--force']]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /journal\.json is a symlink/);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
    }
  });
});

test('a journal that is not initrd-wizard\'s (null entries, foreign paths, garbage) is a clear error, exit 2', { skip }, async () => {
  await withRootAndOutside(async (root) => {
    assert.equal((await install(root)).code, 0);
    const journal = path.join(root, 'var/lib/initrd-wizard/journal.json');
    const good = JSON.parse(await readFile(journal, 'utf8'));
    const bad: Array<[string, string]> = [
      [JSON.stringify({ ...good, entries: [null] }), 'not an initrd-wizard journal'],
      [JSON.stringify({ ...good, entries: [{ ...good.entries[0], path: '/etc/shadow' }] }), 'never writes'],
      [JSON.stringify({ ...good, entries: [{ ...good.entries[0], path: '/etc/kernel/../../etc/shadow' }] }), 'not an initrd-wizard journal'],
      ['{"version":1', 'not valid JSON'],
      ['null', 'not an initrd-wizard journal'],
    ];
    for (const [text, message] of bad) {
      await writeFile(journal, text);
      const r = await revert(root);
      assert.equal(r.code, 2, `${text}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(message));
      assert.doesNotMatch(r.stderr, /internal error/);
    }
  });
});

test('an immutable /etc/kernel/install.d is refused before any write (chattr +i)', { skip: skip || (!isRoot && 'needs root for chattr') }, async () => {
  const { dir, cleanup } = await tempDir('iw-immutable-');
  const locked = path.join(dir, 'etc/kernel/install.d');
  try {
    await makeRoot(dir, 'commented-install-conf');
    const start = await treeHash(dir);
    if (spawnSync('chattr', ['+i', locked]).status !== 0) return; // a file system without the flag
    const r = await install(dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /install\.d does not accept new files: operation not permitted/);
    assert.match(r.stderr, /nothing was changed/);
    spawnSync('chattr', ['-i', locked]);
    assert.equal(await treeHash(dir), start);
  } finally {
    spawnSync('chattr', ['-i', locked]);
    await cleanup();
  }
});

test('a full file system is refused before any write, and revert still works after', { skip: skip || (!isRoot && 'needs root to mount a tmpfs') }, async () => {
  const { dir, cleanup } = await tempDir('iw-full-');
  const mnt = path.join(dir, 'mnt');
  await mkdir(mnt);
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status !== 0) return;
    await makeRoot(mnt, 'commented-install-conf');
    // Fill it to the last few blocks.
    const filler = path.join(mnt, 'filler');
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
    const start = await treeHash(mnt);
    const r = await install(mnt);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no space left|not enough free space/);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.equal(await treeHash(mnt), start);
    await rm(filler);
    assert.equal((await install(mnt)).code, 0);
    assert.equal((await revert(mnt)).code, 0);
  } finally {
    spawnSync('umount', [mnt]);
    await cleanup();
  }
});

test('temp files and kept versions left by a killed run are swept by the next one', { skip }, async () => {
  await withRootAndOutside(async (root) => {
    const start = await treeHash(root);
    // What a SIGKILL between writing and renaming leaves: temp files beside the targets.
    await mkdir(path.join(root, 'var/lib/initrd-wizard'), { recursive: true, mode: 0o700 });
    await writeFile(path.join(root, 'var/lib/initrd-wizard/.journal.json.iw-0123456789ab'), 'half a journal');
    await writeFile(path.join(root, 'etc/kernel/.install.conf.iw-abcdef012345'), 'half a file');
    // A preflight probe in a directory only the killed run's lock file names.
    await writeFile(path.join(root, 'etc/.initrd-wizard-probe.iw-0123456789ab'), '');
    await writeFile(path.join(root, 'var/lib/initrd-wizard/lock'), '4242\n/etc\n');
    assert.equal((await install(root)).code, 0);
    assert.equal(existsSync(path.join(root, 'etc/kernel/.install.conf.iw-abcdef012345')), false);
    assert.equal(existsSync(path.join(root, 'etc/.initrd-wizard-probe.iw-0123456789ab')), false);
    assert.equal((await revert(root)).code, 0);
    assert.equal(await treeHash(root), start);
  });
});

test('a read-only state directory or root gives a clear error, never "internal error"', { skip: skip || (isRoot && 'root ignores permissions') }, async () => {
  await withRootAndOutside(async (root) => {
    await chmod(path.join(root, 'var/lib'), 0o555);
    const r = await install(root);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /permission denied/);
    await chmod(path.join(root, 'var/lib'), 0o755);
  });
});
