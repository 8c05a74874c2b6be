/**
 * The member-by-member comparison of two builds, on archives written by the
 * real GNU cpio and zstd (as mkosi writes them: --reproducible, sorted list)
 * and on the UKI fixture written by the real ukify, changed in one place at a
 * time: each change must be found as exactly that member and field, with the
 * cause the table gives it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compareImages, likelyCause, byCause } from '../../src/image/compare.js';
import { findSection, readPe } from '../../src/image/pe.js';
import { formatDifferences } from '../../src/commands/reproducible.js';
import { tempDir } from '../helpers.js';

const tiny = readFileSync(new URL('../fixtures/uki/tiny.efi', import.meta.url));
const EPOCH = 1704067200;

/** A tree like a tiny initrd, every mtime pinned, then `change` applied. */
async function tree(dir: string, change: (dir: string) => Promise<void> = async () => {}): Promise<void> {
  await mkdir(path.join(dir, 'etc'), { recursive: true });
  await mkdir(path.join(dir, 'var/cache/ldconfig'), { recursive: true });
  await writeFile(path.join(dir, 'etc/os-release'), 'ID=debian\n');
  await writeFile(path.join(dir, 'etc/fstab'), '# empty\n');
  await writeFile(path.join(dir, 'var/cache/ldconfig/aux-cache'), 'inode 1234\n');
  await change(dir);
  for (const p of ['', 'etc', 'etc/os-release', 'etc/fstab', 'var', 'var/cache', 'var/cache/ldconfig', 'var/cache/ldconfig/aux-cache', 'etc/machine-id']) {
    await utimes(path.join(dir, p), EPOCH, EPOCH).catch(() => undefined);
  }
}

/** The archive as mkosi makes it: GNU cpio --reproducible over a sorted NUL-separated list, then zstd. */
function archive(dir: string, order: 'sorted' | 'reversed' = 'sorted', compress = true): Buffer {
  const files = execFileSync('find', ['.', '-mindepth', '1', '-printf', '%P\\n'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').sort();
  if (order === 'reversed') files.reverse();
  const cpio = execFileSync('cpio', ['--create', '--reproducible', '--null', '--format=newc', '--quiet', '--owner=0:0'], { cwd: dir, input: files.join('\0') });
  return compress ? execFileSync('zstd', ['-q', '-c', '-19'], { input: cpio }) : cpio;
}

async function pair(changeB: (dir: string) => Promise<void>, opts: { order?: 'sorted' | 'reversed' } = {}) {
  const t = await tempDir('iw-compare-');
  try {
    await tree(path.join(t.dir, 'a'));
    await tree(path.join(t.dir, 'b'), changeB);
    return await compareImages(archive(path.join(t.dir, 'a')), archive(path.join(t.dir, 'b'), opts.order));
  } finally {
    await t.cleanup();
  }
}

test('two archives of the same tree are identical, with no differences', async () => {
  const r = await pair(async () => {});
  assert.deepEqual(r, { identical: true, kind: 'cpio', differences: [] });
});

test('a later mtime is found as that member\'s mtime, and blamed on the missing SOURCE_DATE_EPOCH', async () => {
  const t = await tempDir('iw-compare-');
  try {
    await tree(path.join(t.dir, 'a'));
    await tree(path.join(t.dir, 'b'));
    await utimes(path.join(t.dir, 'b/etc/fstab'), EPOCH + 3600, EPOCH + 3600);
    const c = await compareImages(archive(path.join(t.dir, 'a')), archive(path.join(t.dir, 'b')));
    assert.equal(c.identical, false);
    assert.deepEqual(c.differences.map((d) => [d.member, d.fields]), [['etc/fstab', ['mtime']]]);
    assert.match(c.differences[0]!.cause, /SourceDateEpoch=/);
    assert.match(c.differences[0]!.detail!, /2024-01-01T00:00:00Z vs 2024-01-01T01:00:00Z/);
  } finally {
    await t.cleanup();
  }
});

test('content, mode, presence and a known file are each named with their field and cause', async () => {
  const r = await pair(async (d) => {
    await writeFile(path.join(d, 'var/cache/ldconfig/aux-cache'), 'inode 9876\n');
    await writeFile(path.join(d, 'etc/os-release'), 'ID=debian\nX=1\n');
    await chmod(path.join(d, 'etc/fstab'), 0o600);
    await writeFile(path.join(d, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  });
  assert.equal(r.identical, false);
  const got = Object.fromEntries(r.differences.map((d) => [d.member, d.fields]));
  assert.deepEqual(got, {
    'etc/fstab': ['mode'],
    'etc/machine-id': ['presence'],
    'etc/os-release': ['content'],
    'var/cache/ldconfig/aux-cache': ['content'],
  });
  const cause = (m: string) => r.differences.find((d) => d.member === m)!.cause;
  assert.match(cause('var/cache/ldconfig/aux-cache'), /ldconfig's aux-cache/);
  assert.match(cause('etc/machine-id'), /machine-id/);
  assert.match(cause('etc/os-release'), /^unknown/);
  assert.match(r.differences.find((d) => d.member === 'etc/fstab')!.detail!, /mode 644 vs 600/);
  // Inode numbers shift after a member only one build has: not reported as a difference of their own.
  assert.ok(!r.differences.some((d) => d.fields.includes('inode')));
});

test('the same members written in another order are found as an order difference of the archive', async () => {
  const r = await pair(async () => {}, { order: 'reversed' });
  assert.equal(r.identical, false);
  const archiveDiff = r.differences.find((d) => d.member === '(archive)');
  assert.deepEqual(archiveDiff?.fields, ['order']);
  assert.match(archiveDiff!.cause, /unsorted file list/);
});

test('equal members with other compressed bytes are blamed on the compressor', async () => {
  const t = await tempDir('iw-compare-');
  try {
    await tree(path.join(t.dir, 'a'));
    const raw = archive(path.join(t.dir, 'a'), 'sorted', false);
    const fast = execFileSync('zstd', ['-q', '-c', '-1'], { input: raw });
    const best = execFileSync('zstd', ['-q', '-c', '-19', '--no-check'], { input: raw });
    assert.ok(!fast.equals(best), 'two compressor settings give two byte streams');
    const r = await compareImages(fast, best);
    assert.deepEqual(r.differences.map((d) => [d.member, d.fields]), [['(archive)', ['bytes']]]);
    assert.match(r.differences[0]!.cause, /compressor/);
  } finally {
    await t.cleanup();
  }
});

/** A copy of the UKI fixture with `at` overwritten. */
function patched(at: number, bytes: Buffer): Buffer {
  const b = Buffer.from(tiny);
  bytes.copy(b, at);
  return b;
}

test('UKIs: identical copies compare identical; a changed section and a changed member of the embedded initrd are found', async () => {
  assert.deepEqual(await compareImages(tiny, Buffer.from(tiny)), { identical: true, kind: 'uki', differences: [] });
  const pe = readPe(tiny);
  const cmdline = findSection(pe, '.cmdline')!;
  const other = patched(cmdline.rawOffset, Buffer.from('ROOT'));
  const r = await compareImages(tiny, other);
  assert.equal(r.kind, 'uki');
  assert.deepEqual(r.differences.map((d) => [d.member, d.fields]), [['section:.cmdline', ['content']]]);
  // The embedded initrd's second member (etc/os-release): its mtime field, 8 hex digits at byte 46 of its header.
  const initrd = findSection(pe, '.initrd')!;
  const section = tiny.subarray(initrd.rawOffset, initrd.rawOffset + initrd.virtualSize);
  const header = section.indexOf('etc/os-release') - 110;
  assert.ok(header > 0);
  const mtimeAt = initrd.rawOffset + header + 46;
  const r2 = await compareImages(tiny, patched(mtimeAt, Buffer.from((EPOCH).toString(16).padStart(8, '0'))));
  assert.deepEqual(r2.differences.map((d) => [d.member, d.fields]), [['.initrd/etc/os-release', ['mtime']]]);
  assert.match(r2.differences[0]!.cause, /SourceDateEpoch=/);
  // Only the COFF header's TimeDateStamp: no section differs.
  const stamp = tiny.readUInt32LE(0x3c) + 8;
  const r3 = await compareImages(tiny, patched(stamp, Buffer.from([1, 2, 3, 4])));
  assert.deepEqual(r3.differences.map((d) => [d.member, d.fields]), [['(pe headers)', ['bytes']]]);
  assert.match(r3.differences[0]!.cause, /TimeDateStamp/);
});

test('a cpio against a UKI, or garbage, is refused with a reason, not a stack trace', async () => {
  const t = await tempDir('iw-compare-');
  try {
    await tree(path.join(t.dir, 'a'));
    const cpio = archive(path.join(t.dir, 'a'));
    await assert.rejects(compareImages(cpio, Buffer.from('not an image at all')), /not a newc cpio header|cpio/);
  } finally {
    await t.cleanup();
  }
});

test('the cause table: specific files before fields, and an unknown member says how to look closer', () => {
  assert.match(likelyCause('var/lib/systemd/catalog/database', ['content']), /catalog/);
  assert.match(likelyCause('usr/lib/python3/dist-packages/x/__pycache__/y.cpython-311.pyc', ['content']), /bytecode/);
  assert.match(likelyCause('var/log/dpkg.log', ['content']), /logs/);
  assert.match(likelyCause('etc/shadow', ['content']), /password change/);
  assert.match(likelyCause('.initrd/var/cache/ldconfig/aux-cache', ['content']), /aux-cache/);
  // A known file whose only difference is its time: the time is the cause.
  assert.match(likelyCause('var/log/dpkg.log', ['mtime']), /SourceDateEpoch/);
  assert.match(likelyCause('usr/bin/x', ['inode']), /renumber-inodes/);
  assert.match(likelyCause('usr/bin/x', ['content']), /diffoscope/);
  const groups = byCause([
    { member: 'a', fields: ['mtime'], cause: 'x' },
    { member: 'b', fields: ['content'], cause: 'y' },
    { member: 'c', fields: ['mtime'], cause: 'x' },
  ]);
  assert.deepEqual(groups.map((g) => [g.cause, g.members.length]), [['x', 2], ['y', 1]]);
});

test('the text output groups members by cause, the largest group first, and says where the rest are listed', () => {
  const many = Array.from({ length: 30 }, (_, i) => ({ member: `usr/bin/f${i}`, fields: ['mtime' as const], cause: likelyCause('usr/bin/x', ['mtime']) }));
  const lines = formatDifferences([{ member: 'var/cache/ldconfig/aux-cache', fields: ['content'], cause: likelyCause('var/cache/ldconfig/aux-cache', ['content']), detail: 'same size, other bytes' }, ...many]);
  assert.match(lines[0]!, /^ {2}30 members: timestamps after SOURCE_DATE_EPOCH/);
  assert.equal(lines.filter((l) => /^ {4}usr\/bin\/f\d+ \(mtime\)$/.test(l)).length, 25);
  assert.match(lines[26]!, /… and 5 more \(--json lists every one\)/);
  assert.match(lines[27]!, /^ {2}1 member: ldconfig's aux-cache/);
  assert.equal(lines[28], '    var/cache/ldconfig/aux-cache (content): same size, other bytes');
});
