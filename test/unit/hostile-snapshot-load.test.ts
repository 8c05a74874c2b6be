/**
 * Loading a snapshot from another machine: only regular files inside the
 * directory are read, each size is checked before reading, and a refusal is
 * exit 2 naming the file, never a leak of what a link points at, a hang on a
 * FIFO or an out-of-memory crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, open, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { InputError } from '../../src/errors.js';
import { LIMITS } from '../../src/limits.js';
import { fixture, tempDir } from '../helpers.js';

const SECRET = 'root:$6$hostile-snapshot-SECRET-7f3a$tZ:19000:0:99999:7:::';

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = (s: string) => void (out += s);
  const code = await main(args, { stdout: write, stderr: write });
  return { code, out };
}

/** A writable copy of a real capture, and a secret file outside it that no answer may show. */
async function copyFixture(name = 'btrfs-luks'): Promise<{ snap: string; secret: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir('iw-hostile-');
  const snap = path.join(dir, 'snap');
  await cp(fixture(name), snap, { recursive: true });
  const secret = path.join(dir, 'shadow');
  await writeFile(secret, SECRET + '\n');
  return { snap, secret, cleanup };
}

function mkfifo(p: string) {
  execFileSync('mkfifo', [p]);
}

/** A character device like /dev/zero (reads never end); null when this process may not create one. */
function mkzero(p: string): boolean {
  try {
    execFileSync('mknod', [p, 'c', '1', '5'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('snapshot.json linked to a file outside is refused without showing its content', async () => {
  const { snap, secret, cleanup } = await copyFixture();
  try {
    await rm(path.join(snap, 'snapshot.json'));
    await symlink(secret, path.join(snap, 'snapshot.json'));
    for (const cmd of ['detect', 'suggest']) {
      for (const json of [[], ['--json']]) {
        const r = await run([cmd, '--snapshot', snap, ...json]);
        assert.equal(r.code, 2, r.out);
        assert.match(r.out, /snapshot\.json is a symlink/);
        assert.ok(!r.out.includes('SECRET') && !r.out.includes('root:'), r.out);
      }
    }
  } finally {
    await cleanup();
  }
});

test('a snapshot.json that is not JSON is refused without quoting it', async () => {
  const { snap, cleanup } = await copyFixture();
  try {
    await writeFile(path.join(snap, 'snapshot.json'), SECRET + '\n');
    const r = await run(['detect', '--snapshot', snap, '--json']);
    assert.equal(r.code, 2);
    assert.match(r.out, /snapshot\.json is not valid JSON/);
    assert.ok(!r.out.includes('SECRET') && !r.out.includes('root:'), r.out);
  } finally {
    await cleanup();
  }
});

test('a probe file linked outside the snapshot is refused, not followed', async () => {
  const { snap, secret, cleanup } = await copyFixture();
  try {
    await rm(path.join(snap, 'lsblk.json'));
    await symlink(secret, path.join(snap, 'lsblk.json'));
    const r = await run(['detect', '--snapshot', snap, '--json']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /lsblk\.json is a symlink/);
    assert.ok(!r.out.includes('SECRET') && !r.out.includes('root:'), r.out);
  } finally {
    await cleanup();
  }
});

test('a FIFO as snapshot.json or as a probe file is refused at once (no hang)', { timeout: 20_000 }, async () => {
  const { snap, cleanup } = await copyFixture();
  try {
    for (const name of ['snapshot.json', 'fstab', 'sys-block/vda3']) {
      const p = path.join(snap, name);
      const saved = await readFile(p);
      await rm(p);
      mkfifo(p);
      const started = Date.now();
      const r = await run(['detect', '--snapshot', snap, '--json']);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, new RegExp(`${name.replace('.', '\\.')} is a FIFO`));
      assert.ok(Date.now() - started < 5000);
      await rm(p);
      await writeFile(p, saved);
    }
  } finally {
    await cleanup();
  }
});

test('a device node as a probe file is refused (a /dev/zero would never end)', { timeout: 20_000 }, async (t) => {
  const { snap, cleanup } = await copyFixture();
  try {
    await rm(path.join(snap, 'cmdline'));
    if (!mkzero(path.join(snap, 'cmdline'))) return t.skip('mknod is not permitted here');
    const r = await run(['detect', '--snapshot', snap, '--json']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /cmdline is a character device/);
  } finally {
    await cleanup();
  }
});

test('72 sparse 63 MB files in sys-block/ are refused in milliseconds, naming what was too large', { timeout: 30_000 }, async () => {
  const { snap, cleanup } = await copyFixture();
  try {
    for (let i = 0; i < 72; i++) {
      const p = path.join(snap, 'sys-block', `sdz${i}`);
      await (await open(p, 'w')).close();
      await truncate(p, 63 * 1000 * 1000);
    }
    const started = Date.now();
    const r = await run(['detect', '--snapshot', snap, '--json']);
    const ms = Date.now() - started;
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /sys-block\/sdz\d+ is 60\.1 MiB, more than the 16\.0 MiB accepted for a snapshot probe output/);
    assert.ok(ms < 2000, `refused in ${ms} ms`);
  } finally {
    await cleanup();
  }
});

test('probe files that together exceed the snapshot total are refused', async () => {
  const { snap, cleanup } = await copyFixture();
  try {
    const each = LIMITS.snapshotFileBytes - 1;
    const n = Math.ceil(LIMITS.snapshotTotalBytes / each) + 1;
    for (let i = 0; i < n; i++) {
      const p = path.join(snap, 'sys-block', `sdy${i}`);
      await (await open(p, 'w')).close();
      await truncate(p, each);
    }
    const r = await run(['detect', '--snapshot', snap, '--json']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /add up to more than 64\.0 MiB/);
  } finally {
    await cleanup();
  }
});

test('a snapshot with more entries than the limit is refused', { timeout: 60_000 }, async () => {
  const { snap, cleanup } = await copyFixture();
  try {
    const dir = path.join(snap, 'sys-block');
    // One touch for all of them: creating 20,000 files one call at a time is what would be slow here.
    execFileSync('bash', ['-c', `cd "$1" && touch loop{0..${LIMITS.snapshotFiles}}`, 'bash', dir]);
    const err = await loadSnapshot(snap).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof InputError, String(err));
    assert.match(err.message, new RegExp(`more than ${LIMITS.snapshotFiles} entries`));
  } finally {
    await cleanup();
  }
});

test('a probe file that is a directory is refused; unknown extra entries of any kind are ignored unread', async () => {
  const { snap, secret, cleanup } = await copyFixture();
  try {
    // Unknown names are tolerated (the format says so) but never opened: a link, a FIFO, a huge sparse file.
    await symlink(secret, path.join(snap, 'notes.txt'));
    mkfifo(path.join(snap, 'pipe'));
    const huge = path.join(snap, 'core.dump');
    await (await open(huge, 'w')).close();
    await truncate(huge, 8 * 1024 * 1024 * 1024);
    await mkdir(path.join(snap, 'extra', 'deeper'), { recursive: true });
    const ok = await run(['detect', '--snapshot', snap, '--json']);
    assert.equal(ok.code, 0, ok.out);
    assert.ok(!ok.out.includes('SECRET'));
    const loaded = await loadSnapshot(snap);
    assert.ok(!loaded.files.has('notes.txt') && !loaded.files.has('core.dump') && !loaded.files.has('scenario.json'));

    await rm(path.join(snap, 'fstab'));
    await mkdir(path.join(snap, 'fstab'));
    const r = await run(['detect', '--snapshot', snap, '--json']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /fstab is a directory, not a regular file/);
  } finally {
    await cleanup();
  }
});

test('a snapshot read through a linked directory path still works (the path the user names is theirs)', async () => {
  const { snap, cleanup } = await copyFixture();
  try {
    const link = `${snap}-link`;
    await symlink(snap, link);
    const r = await run(['detect', '--snapshot', link, '--json']);
    assert.equal(r.code, 0, r.out);
  } finally {
    await cleanup();
  }
});
