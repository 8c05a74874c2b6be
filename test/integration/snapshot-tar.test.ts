/**
 * Snapshots as tar archives (`snapshot --output FILE.tar`): what is written
 * reads back as the directory it came from, archives made by GNU tar read the
 * same, `tar -xf` gives back the directory, and a hostile archive (links,
 * devices, truncation, a damaged header, two snapshots, a lying size) is a
 * refusal with exit 2 that names the problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { loadSnapshot, writeSnapshot } from '../../src/host/snapshot.js';
import { writeTar } from '../../src/host/tar.js';
import { fixture, fixtureNames, tempDir } from '../helpers.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const tar = (...args: string[]) => execFileSync('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });

test('every capture written as FILE.tar reads back as the directory it came from, and detects the same', async () => {
  const { dir, cleanup } = await tempDir('iw-tar-');
  try {
    for (const name of await fixtureNames()) {
      const fromDir = await loadSnapshot(fixture(name));
      const file = path.join(dir, `${name}.tar`);
      await writeSnapshot(fromDir, file);
      const fromTar = await loadSnapshot(file);
      assert.deepEqual(fromTar.meta, fromDir.meta, name);
      assert.deepEqual(new Map([...fromTar.files].filter(([k]) => k !== 'errors.json')), new Map([...fromDir.files].filter(([k]) => k !== 'errors.json')), name);
      assert.deepEqual(fromTar.errors, fromDir.errors, name);
      const a = await run(['detect', '--json', '--snapshot', fixture(name)]);
      const b = await run(['detect', '--json', '--snapshot', file]);
      assert.equal(b.code, a.code, name);
      assert.deepEqual(JSON.parse(b.out), JSON.parse(a.out), name);
    }
  } finally {
    await cleanup();
  }
});

test('the archive is what tar makes of the snapshot directory: tar -xf gives it back, under one directory named like the file', async () => {
  const { dir, cleanup } = await tempDir('iw-tar-');
  try {
    const snap = await loadSnapshot(fixture('luks2-lvm-hibernate'));
    await writeSnapshot(snap, path.join(dir, 'asdir'));
    await writeSnapshot(snap, path.join(dir, 'host7.tar'));
    await mkdir(path.join(dir, 'out'));
    tar('-C', path.join(dir, 'out'), '-xf', path.join(dir, 'host7.tar'));
    execFileSync('diff', ['-r', path.join(dir, 'asdir'), path.join(dir, 'out', 'host7')]);
    // The same snapshot gives the same bytes: owners are 0, and every time is the capture's.
    await mkdir(path.join(dir, 'later'));
    await writeSnapshot(snap, path.join(dir, 'later', 'host7.tar'));
    assert.deepEqual(await readFile(path.join(dir, 'later', 'host7.tar')), await readFile(path.join(dir, 'host7.tar')));
    assert.match(tar('-tvf', path.join(dir, 'host7.tar')).toString(), /^-rw-r--r-- 0\/0 .* host7\/luks\/vda3\.json$/m);
  } finally {
    await cleanup();
  }
});

test('archives made by GNU tar read the same: gnu, pax and ustar formats, with or without a top directory', async () => {
  const { dir, cleanup } = await tempDir('iw-tar-');
  try {
    const want = await loadSnapshot(fixture('raid1'));
    const made = [
      ['gnu.tar', '--format=gnu', '-C', path.dirname(fixture('raid1')), 'raid1'],
      ['pax.tar', '--format=pax', '-C', path.dirname(fixture('raid1')), 'raid1'],
      ['flat.tar', '--format=ustar', '-C', fixture('raid1'), '.'],
    ];
    for (const [file, format, ...rest] of made) {
      tar('-cf', path.join(dir, file!), format!, ...rest);
      const got = await loadSnapshot(path.join(dir, file!));
      assert.deepEqual(got.meta, want.meta, file);
      assert.deepEqual(got.files, want.files, file);
    }
  } finally {
    await cleanup();
  }
});

test('hostile archives are refused with exit 2, naming the problem', async () => {
  const { dir, cleanup } = await tempDir('iw-tar-');
  try {
    const good = path.join(dir, 'good.tar');
    await writeSnapshot(await loadSnapshot(fixture('raid1')), good);
    const bytes = await readFile(good);

    const linked = path.join(dir, 'linked');
    await cp(fixture('raid1'), linked, { recursive: true });
    execFileSync('rm', [path.join(linked, 'lsblk.json')]);
    await symlink('/etc/shadow', path.join(linked, 'lsblk.json'));
    tar('-cf', path.join(dir, 'symlink.tar'), '-C', dir, 'linked');

    const hard = path.join(dir, 'hard');
    await cp(fixture('raid1'), hard, { recursive: true });
    execFileSync('rm', [path.join(hard, 'fstab')]);
    execFileSync('ln', [path.join(hard, 'lsblk.json'), path.join(hard, 'fstab')]);
    tar('-cf', path.join(dir, 'hardlink.tar'), '-C', dir, 'hard');

    const damaged = Buffer.from(bytes);
    damaged[512 * 3 + 10] = damaged[512 * 3 + 10]! ^ 0xff; // inside the third entry's header
    const lying = Buffer.from(bytes);
    lying.write('77777777777\0', 512 + 124, 'latin1'); // snapshot.json claims 8 GiB
    const sum = [...lying.subarray(512, 1024)].reduce((n, b, i) => n + (i >= 148 && i < 156 ? 32 : b), 0);
    lying.write(sum.toString(8).padStart(6, '0') + '\0 ', 512 + 148, 'latin1');
    tar('-cf', path.join(dir, 'two.tar'), '-C', path.dirname(fixture('raid1')), 'raid1', 'multipath');
    const nested = writeTar('top', [['one/snapshot.json', '{"format":1}']], 0);

    const cases: Array<[string, Buffer | null, RegExp]> = [
      ['symlink.tar', null, /lsblk\.json is a symlink, not a regular file/],
      ['hardlink.tar', null, /fstab is a hard link, not a regular file/],
      ['truncated.tar', bytes.subarray(0, 512 * 4 + 100), /truncated/],
      ['damaged.tar', damaged, /bad header checksum/],
      ['lying.tar', lying, /past the end of the archive/],
      ['two.tar', null, /holds 2 snapshots \(raid1\/snapshot\.json, multipath\/snapshot\.json\); an archive holds one/],
      ['nested.tar', nested, /holds no snapshot\.json/],
      ['random.tar', Buffer.from('just some text, not an archive\n'.repeat(40)), /not a snapshot archive: it does not start with a tar header/],
      ['empty.tar', Buffer.alloc(0), /not a snapshot archive: it is empty/],
    ];
    for (const [name, content, message] of cases) {
      if (content) await writeFile(path.join(dir, name), content);
      const r = await run(['detect', '--snapshot', path.join(dir, name)]);
      assert.equal(r.code, 2, name);
      assert.match(r.err, message, name);
      assert.match(r.err, /next step:/, name);
      assert.doesNotMatch(r.err + r.out, /root:|shadow|\n\s+at /, name);
    }
  } finally {
    await cleanup();
  }
});

test('snapshot --output FILE.tar never replaces a file, and fleet reads a directory of archives by host name', async () => {
  const { dir, cleanup } = await tempDir('iw-tar-');
  try {
    const taken = path.join(dir, 'taken.tar');
    await writeFile(taken, 'mine');
    await assert.rejects(writeSnapshot(await loadSnapshot(fixture('raid1')), taken), /already exists/);
    assert.equal(await readFile(taken, 'utf8'), 'mine');

    const hosts = path.join(dir, 'hosts');
    await mkdir(hosts);
    await writeSnapshot(await loadSnapshot(fixture('raid1')), path.join(hosts, 'ws-0001.tar'));
    await writeSnapshot(await loadSnapshot(fixture('multipath')), path.join(hosts, 'ws-0002.tar'));
    await writeFile(path.join(hosts, 'notes.txt'), 'not a snapshot, not read');
    const r = await run(['fleet', hosts, '--json']);
    const fleet = JSON.parse(r.out) as { hosts: Array<{ name: string; supported: boolean; error: string | null }> };
    assert.deepEqual(fleet.hosts.map((h) => [h.name, h.supported, h.error]), [['ws-0001', true, null], ['ws-0002', false, null]]);
  } finally {
    await cleanup();
  }
});

test('a damaged archive is read or refused as bad input, never a crash: 600 mutations and cuts of a real one', async () => {
  const { InputError } = await import('../../src/errors.js');
  const { dir, cleanup } = await tempDir('iw-tar-fuzz-');
  try {
    const good = path.join(dir, 'good.tar');
    await writeSnapshot(await loadSnapshot(fixture('luks2-lvm-hibernate')), good);
    const bytes = await readFile(good);
    let seed = 15;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      const b = Buffer.from(i % 3 === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes);
      // Headers are where a reader can go wrong: most flips land in one.
      for (let f = 0; f < 1 + rand(4); f++) {
        const at = rand(8) ? Math.floor(rand(Math.max(1, b.length / 512))) * 512 + rand(512) : rand(b.length);
        if (at < b.length) b[at] = rand(256);
      }
      const file = path.join(dir, `m${i}.tar`);
      await writeFile(file, b);
      try {
        await loadSnapshot(file);
      } catch (err) {
        assert.ok(err instanceof InputError, `mutation ${i}: ${String(err)}`);
        refused++;
      }
    }
    assert.ok(refused > 100, `most mutations are refused (${refused})`);
  } finally {
    await cleanup();
  }
});
