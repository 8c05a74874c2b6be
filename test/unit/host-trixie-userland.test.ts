/**
 * Detection on today's userland (Debian 13: util-linux 2.41, cryptsetup 2.7, lvm2 2.03.31, mdadm 4.4,
 * kernel 6.12), against the trixie-* captures and small inputs shaped like their output.
 *
 * LUKS2 with authenticated encryption (luksFormat --integrity hmac-sha256; captured with both guests)
 * is the case detection got wrong: dm-crypt sits on its own `<name>_dif` dm-integrity device, which has no LUKS header, so the
 * crypt mapping looked like one with a detached header.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { analyze } from '../../src/host/analyze.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { parseLsblk } from '../../src/host/parse/lsblk.js';
import { parseMdadmScan } from '../../src/host/parse/mdadm.js';
import { parseFindmnt } from '../../src/host/parse/findmnt.js';
import { loadProfiles } from '../../src/variant/profiles.js';
import { suggest } from '../../src/variant/suggest.js';
import { fixture, runCli, tempDir } from '../helpers.js';

const INTEGRITY = 'trixie-luks2-integrity';
const CRYPT = 'luks-6d7e8f90-0001-4a1b-8c2d-3e4f5a6b7c8d';

async function analyzeVariant(name: string, change: (dir: string) => Promise<void>) {
  const { dir, cleanup } = await tempDir('iw-trixie-');
  try {
    const snap = path.join(dir, 'snap');
    await cp(fixture(name), snap, { recursive: true });
    await change(snap);
    return analyze(await loadSnapshot(snap));
  } finally {
    await cleanup();
  }
}

const ids = (r: { unsupported: Array<{ id: string }> }) => r.unsupported.map((u) => u.id).sort();

for (const name of [INTEGRITY, 'luks2-integrity']) test(`LUKS2 with --integrity hmac-sha256 (${name}): an ordinary LUKS2 volume over its _dif layer (was: detached header)`, async () => {
  const report = analyze(await loadSnapshot(fixture(name)));
  assert.deepEqual([...report.features].sort(), ['integrity', 'luks']);
  assert.deepEqual(ids(report), []);
  const root = report.mounts.find((m) => m.target === '/')!;
  assert.deepEqual(root.chain, ['vda3', `${CRYPT}_dif`, CRYPT]);
  assert.ok(report.featureReasons.luks?.some((r) => r.includes(`${CRYPT}: LUKS2 on vda3`)), JSON.stringify(report.featureReasons.luks));
  assert.ok(report.featureReasons.integrity?.some((r) => /integrity layer of an authenticated LUKS2 volume/.test(r)), JSON.stringify(report.featureReasons.integrity));
  assert.ok(!report.featureReasons.integrity?.some((r) => /: dm-integrity volume$/.test(r)), 'the _dif helper is not a standalone dm-integrity volume');
  // The crypttab line names the partition under the _dif layer; it is still the one the root needs.
  assert.deepEqual(report.crypttab.map((c) => c.name), [CRYPT]);
});

test('LUKS2 integrity: suggest picks the luks and integrity profiles', async () => {
  const report = analyze(await loadSnapshot(fixture(INTEGRITY)));
  const variant = suggest(report, await loadProfiles(), { distro: { id: 'debian', version: '13', family: 'debian' } });
  assert.ok(variant.profiles.includes('luks'), variant.profiles.join());
  assert.ok(variant.profiles.includes('integrity'), variant.profiles.join());
  const cli = await runCli(['suggest', '--json', '--snapshot', fixture(INTEGRITY)]);
  assert.equal(cli.code, 0, cli.stderr);
  const out = JSON.parse(cli.stdout) as { profiles: string[] };
  for (const p of ['base', 'luks', 'integrity']) assert.ok(out.profiles.includes(p), out.profiles.join());
});

test('LUKS2 integrity without dmsetup output or dm uuids (an older or partial capture): the _dif name still tells', async () => {
  const report = await analyzeVariant(INTEGRITY, async (d) => {
    await rm(path.join(d, 'dmsetup-info'));
    await rm(path.join(d, 'dmsetup-table'));
    for (const k of ['dm-0', 'dm-1']) await rm(path.join(d, 'sys-block', k), { force: true });
  });
  assert.deepEqual(ids(report), []);
  assert.ok(report.features.includes('luks') && report.features.includes('integrity'), report.features.join());
});

test('LUKS2 integrity with the header really missing below the _dif layer is still a detached header', async () => {
  const report = await analyzeVariant(INTEGRITY, async (d) => {
    const file = path.join(d, 'lsblk.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"crypto_LUKS"', 'null'));
    await rm(path.join(d, 'luks', 'vda3.json'));
  });
  assert.deepEqual(ids(report), ['luks-detached-header']);
  assert.ok(report.unsupported[0]!.reason.length > 0);
});

test('lsblk 2.41: mountpoints [] (2.38 said [null]) and the new columns are read without complaint', () => {
  const node = (extra: Record<string, unknown>) => ({
    name: 'vda1', kname: 'vda1', path: '/dev/vda1', 'maj:min': '254:1', type: 'part', fstype: 'ext4', size: 1048576,
    ro: false, id: 'virtio-iwdisk0-part1', 'id-link': 'virtio-iwdisk0-part1', 'disk-seq': 1, mq: '    1', fsroots: [], mountpoint: null, ...extra,
  });
  for (const [mp, want] of [[[], []], [[null], []], [['/boot'], ['/boot']], [['/a', '/b'], ['/a', '/b']]] as const) {
    const r = parseLsblk(JSON.stringify({ blockdevices: [{ name: 'vda', kname: 'vda', type: 'disk', children: [node({ mountpoints: mp })] }] }));
    assert.ok(r.ok);
    assert.deepEqual(r.value.devices.get('vda1')!.mountpoints, want, JSON.stringify(mp));
    assert.deepEqual(r.warnings, []);
  }
  // The real 2.41 output: every device of the capture parses, the mounted ones have their mount points.
  return readFile(path.join(fixture(INTEGRITY), 'lsblk.json'), 'utf8').then((text) => {
    assert.match(text, /"mountpoints": \[\]/, 'the capture has util-linux 2.41 empty mountpoints');
    const r = parseLsblk(text);
    assert.ok(r.ok);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.value.devices.get('dm-1')!.mountpoints, ['/']);
    assert.deepEqual(r.value.devices.get('vda3')!.mountpoints, []);
  });
});

test('mdadm 4.4 --detail --scan without name=: the array is still known by device, metadata and UUID', async () => {
  const r = parseMdadmScan('ARRAY /dev/md0 metadata=1.2 UUID=7c1d2e3f:00024a5b:8c9d0e1f:2a3b4c5d\n');
  assert.ok(r.ok);
  assert.deepEqual(r.value, [{ device: '/dev/md0', metadata: '1.2', uuid: '7c1d2e3f:00024a5b:8c9d0e1f:2a3b4c5d', name: null, container: null }]);
  const scan = await readFile(path.join(fixture('trixie-raid1'), 'mdadm-detail-scan'), 'utf8');
  assert.doesNotMatch(scan, /name=/, 'the capture is mdadm 4.4 output');
  const report = analyze(await loadSnapshot(fixture('trixie-raid1')));
  assert.deepEqual(report.features, ['raid']);
  assert.deepEqual(ids(report), []);
  assert.ok(report.featureReasons.raid?.some((x) => /md0: md raid1 over vda2, vdb2/.test(x)), JSON.stringify(report.featureReasons.raid));
});

test('findmnt 2.41 with its extra columns: the mounts are read as before', async () => {
  const text = await readFile(path.join(fixture(INTEGRITY), 'findmnt.json'), 'utf8');
  const r = parseFindmnt(text);
  assert.ok(r.ok);
  const root = r.value.find((m) => m.target === '/')!;
  assert.equal(root.source, `/dev/mapper/${CRYPT}`);
  assert.equal(root.fstype, 'ext4');
});
