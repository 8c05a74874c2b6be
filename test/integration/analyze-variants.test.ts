/**
 * Shapes no QEMU capture can produce here, derived from real captures by
 * transforming them the way the other tool would have printed them: older
 * util-linux (MOUNTPOINT, fewer columns) and an NFS root (findmnt's answer
 * for a network mount). Each starts from a real fixture, never from typed JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/host/analyze.js';
import { loadSnapshot, type Snapshot } from '../../src/host/snapshot.js';
import { fixture } from '../helpers.js';

type Json = Record<string, unknown>;

function mapDevices(node: Json, fn: (n: Json) => void) {
  fn(node);
  for (const c of (node.children as Json[] | undefined) ?? []) mapDevices(c, fn);
}

/** util-linux < 2.37: MOUNTPOINT instead of MOUNTPOINTS, and no FSVER, TRAN, SUBSYSTEMS, PARTLABEL … columns. */
function asOldUtilLinux(snap: Snapshot): Snapshot {
  const lsblk = JSON.parse(snap.files.get('lsblk.json')!) as { blockdevices: Json[] };
  for (const top of lsblk.blockdevices) {
    mapDevices(top, (n) => {
      const mps = n.mountpoints as Array<string | null> | undefined;
      n.mountpoint = mps?.find((m) => m) ?? null;
      for (const k of ['mountpoints', 'fsver', 'fsroots', 'tran', 'subsystems', 'partlabel', 'zoned', 'dax', 'disc-aln']) delete n[k];
    });
  }
  return { ...snap, files: new Map(snap.files).set('lsblk.json', JSON.stringify(lsblk)) };
}

for (const name of ['luks2-lvm-hibernate', 'raid1-luks-lvm', 'btrfs-luks-tpm2', 'lvm-thin-root', 'multipath']) {
  test(`older util-linux output of ${name} gives the same answer`, async () => {
    const snap = await loadSnapshot(fixture(name));
    const now = analyze(snap);
    const old = analyze(asOldUtilLinux(snap));
    assert.deepEqual(old.features, now.features);
    assert.deepEqual(old.unsupported.map((u) => u.id), now.unsupported.map((u) => u.id));
    assert.deepEqual(old.mounts.map((m) => m.chain), now.mounts.map((m) => m.chain));
  });
}

test('an NFS root needs nfs and network, and no block device', async () => {
  const snap = await loadSnapshot(fixture('plain-swap-resume'));
  const findmnt = JSON.parse(snap.files.get('findmnt.json')!) as { filesystems: Json[] };
  const root = findmnt.filesystems.find((f) => f.target === '/')!;
  Object.assign(root, { source: 'fileserver:/exports/root', sources: ['fileserver:/exports/root'], fstype: 'nfs4', 'maj:min': '0:53', options: 'rw,relatime,vers=4.2' });
  const files = new Map(snap.files).set('findmnt.json', JSON.stringify(findmnt)).set('cmdline', 'root=/dev/nfs nfsroot=fileserver:/exports/root ip=dhcp rw\n');
  files.delete('sys-power-resume');
  const report = analyze({ ...snap, files });
  assert.ok(report.features.includes('nfs') && report.features.includes('network'), report.features.join());
  assert.ok(!report.features.includes('plain'));
  assert.deepEqual(report.mounts.find((m) => m.target === '/')?.chain, []);
});

test('a CIFS root is unsupported', async () => {
  const snap = await loadSnapshot(fixture('plain-swap-resume'));
  const findmnt = JSON.parse(snap.files.get('findmnt.json')!) as { filesystems: Json[] };
  Object.assign(findmnt.filesystems.find((f) => f.target === '/')!, { source: '//server/share', fstype: 'cifs' });
  const report = analyze({ ...snap, files: new Map(snap.files).set('findmnt.json', JSON.stringify(findmnt)) });
  assert.deepEqual(report.unsupported.map((u) => u.id), ['cifs']);
  assert.match(report.unsupported[0]!.advice, /^Keep initramfs-tools/);
});
