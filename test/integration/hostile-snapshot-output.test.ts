/**
 * `snapshot --output` on a path that cannot hold a directory (procfs, sysfs, a
 * file, a missing parent) fails at once with exit 2 and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { loadSnapshot, writeSnapshot, type Snapshot } from '../../src/host/snapshot.js';
import { InputError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

function sample(files: Array<[string, string]> = [['fstab', '/dev/vda1 / ext4 defaults 0 1\n']]): Snapshot {
  return { dir: null, meta: { format: 1, captured: '', kernel: 'k', arch: 'x86_64', capturedBy: 't' }, files: new Map(files), errors: [], warnings: [] };
}

async function refusal(p: Promise<unknown>): Promise<InputError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
  return err;
}

test('--output under /proc or /sys fails at once (it looped forever creating directories)', { timeout: 60_000 }, async () => {
  for (const out of ['/proc/x', '/proc/self/x', '/sys/x']) {
    const started = Date.now();
    const err = await refusal(writeSnapshot(sample(), out));
    assert.match(err.message, new RegExp(`cannot create the snapshot directory in ${path.dirname(out).replace(/\//g, '\\/')}`));
    assert.ok(err.hint && /--output/.test(err.hint));
    assert.ok(Date.now() - started < 2000);
  }
  let output = '';
  const code = await main(['snapshot', '--output', '/proc/x'], { stdout: (s) => void (output += s), stderr: (s) => void (output += s) });
  assert.equal(code, 2, output);
  assert.match(output, /cannot create the snapshot directory in \/proc/);
  assert.doesNotMatch(output, /internal error/);
});

test('--output whose parent is missing or is a file is refused before anything is written', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(path.join(dir, 'file'), 'x');
    assert.match((await refusal(writeSnapshot(sample(), path.join(dir, 'file', 'snap')))).message, /file is not a directory/);
    assert.match((await refusal(writeSnapshot(sample(), path.join(dir, 'missing', 'snap')))).message, /missing does not exist/);
    await symlink(path.join(dir, 'file'), path.join(dir, 'link'));
    assert.match((await refusal(writeSnapshot(sample(), path.join(dir, 'link')))).message, /link exists and is not a directory/);
    assert.deepEqual((await readdir(dir)).sort(), ['file', 'link']);
  } finally {
    await cleanup();
  }
});

test('a write that fails half-way leaves no temporary directory behind', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // "luks" as a file and as a directory: the second write fails after the first succeeded.
    const bad = sample([
      ['luks', 'x'],
      ['luks/vda3.json', '{}'],
    ]);
    await assert.rejects(writeSnapshot(bad, path.join(dir, 'snap')));
    assert.deepEqual(await readdir(dir), []);
    const escaping = sample([['../outside', 'x']]);
    await refusal(writeSnapshot(escaping, path.join(dir, 'snap')));
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await cleanup();
  }
});

test('writing into an empty existing directory still works, and the result loads', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const out = path.join(dir, 'snap');
    await mkdir(out);
    await writeSnapshot(sample([['fstab', 'a b c\n'], ['luks/vda3.json', '{}'], ['sys-block/vda', 'dev=254:0\n']]), out);
    const loaded = await loadSnapshot(out);
    assert.equal(loaded.files.get('fstab'), 'a b c\n');
    assert.equal(loaded.files.get('luks/vda3.json'), '{}');
    assert.deepEqual((await readdir(dir)).sort(), ['snap']);
  } finally {
    await cleanup();
  }
});
