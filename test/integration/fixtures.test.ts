/**
 * Every captured scenario (real storage stacks built in QEMU guests) and the
 * answer detection must give for it. The table is the specification: it is
 * written here by hand, not read from the fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fixture, fixtureNames, runCli } from '../helpers.js';

interface Expect {
  features: string[];
  unsupported: string[];
  /** Facts about the chain of / worth pinning down. */
  rootChainIncludes?: RegExp[];
  mounts?: string[];
  warning?: RegExp;
}

const TABLE: Record<string, Expect> = {
  'plain-swap-resume': { features: ['plain', 'hibernate'], unsupported: [], mounts: ['/', 'swap'] },
  'luks2-lvm-hibernate': { features: ['luks', 'lvm', 'hibernate'], unsupported: [], mounts: ['/', 'swap'] },
  raid1: { features: ['raid'], unsupported: [] },
  'raid1-luks-lvm': { features: ['luks', 'lvm', 'raid'], unsupported: [] },
  'lvm-two-pvs': { features: ['lvm'], unsupported: [] },
  'lvm-raid1': { features: ['lvm'], unsupported: [] },
  'lvm-thin-root': { features: ['lvm', 'lvm-thin'], unsupported: [] },
  'btrfs-luks-tpm2': { features: ['luks', 'btrfs', 'tpm2'], unsupported: [] },
  'btrfs-luks-tpm2-hibernate': { features: ['luks', 'btrfs', 'tpm2', 'hibernate'], unsupported: [], mounts: ['/', 'swap'] },
  'separate-usr': { features: ['plain', 'lvm'], unsupported: [], mounts: ['/', '/usr'] },
  multipath: { features: [], unsupported: ['multipath'] },
  'plain-dm-crypt': { features: [], unsupported: ['plain-dm-crypt'] },
  'luks-detached-header': { features: ['luks'], unsupported: ['luks-detached-header'] },
  'nbd-root': { features: [], unsupported: ['nbd'] },
  'btrfs-luks': { features: ['luks', 'btrfs'], unsupported: [] },
  'luks1-ext4': { features: ['luks'], unsupported: [] },
  'raid5-xfs': { features: ['raid'], unsupported: [] },
  'luks2-fido2': { features: ['luks', 'fido2'], unsupported: [] },
  'lvm-luks-swap-random': { features: ['lvm'], unsupported: [] },
  bcache: { features: [], unsupported: ['bcache'] },
  iscsi: { features: [], unsupported: ['iscsi'] },
  imsm: { features: ['raid'], unsupported: [] },
  integrity: { features: ['integrity'], unsupported: [] },
  'verity-usr': { features: ['plain', 'verity'], unsupported: [], mounts: ['/', '/usr'] },
  // LUKS2 --integrity hmac-sha256 with cryptsetup 2.6: the same shape as with 2.7 (its _dif helper has a CRYPT-INTEGRITY- uuid).
  'luks2-integrity': {
    features: ['luks', 'integrity'],
    unsupported: [],
    rootChainIncludes: [/^vda3$/, /^luks-6d7e8f90-0001-4a1b-8c2d-3e4f5a6b7c8d_dif$/, /^luks-6d7e8f90-0001-4a1b-8c2d-3e4f5a6b7c8d$/],
  },
  // Captured with the Debian 13 guest (IW_GUEST_SUITE=trixie): util-linux 2.41 (mountpoints [], new
  // columns), cryptsetup 2.7, lvm2 2.03.31, mdadm 4.4 (--detail --scan without name=), kernel 6.12.
  'trixie-luks2-ext4': { features: ['luks'], unsupported: [] },
  'trixie-luks2-integrity': {
    features: ['luks', 'integrity'],
    unsupported: [],
    rootChainIncludes: [/^vda3$/, /^luks-6d7e8f90-0001-4a1b-8c2d-3e4f5a6b7c8d_dif$/, /^luks-6d7e8f90-0001-4a1b-8c2d-3e4f5a6b7c8d$/],
  },
  'trixie-luks2-lvm-hibernate': { features: ['luks', 'lvm', 'hibernate'], unsupported: [], mounts: ['/', 'swap'] },
  'trixie-raid1': { features: ['raid'], unsupported: [] },
  'trixie-btrfs-luks': { features: ['luks', 'btrfs'], unsupported: [] },
};

test('every captured fixture is in the table, and the table agrees with its scenario.json', async () => {
  const names = await fixtureNames();
  assert.deepEqual(names.filter((n) => !(n in TABLE)), [], 'fixtures without an expected answer here');
  for (const name of names) {
    const file = path.join(fixture(name), 'scenario.json');
    if (!existsSync(file)) continue;
    const scenario = JSON.parse(await readFile(file, 'utf8')) as { expected: { features: string[]; unsupported: string[] } };
    assert.deepEqual([...scenario.expected.features].sort(), [...TABLE[name]!.features].sort(), `${name}: features`);
    assert.deepEqual([...scenario.expected.unsupported].sort(), [...TABLE[name]!.unsupported].sort(), `${name}: unsupported`);
  }
});

for (const [name, want] of Object.entries(TABLE)) {
  test(`detect on the ${name} capture`, async () => {
    const dir = fixture(name);
    assert.ok(existsSync(dir), `fixture ${name} is captured (bash test/vm/capture.sh ${name})`);
    const r = await runCli(['detect', '--json', '--snapshot', dir]);
    assert.equal(r.code, want.unsupported.length ? 3 : 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual([...report.features].sort(), [...want.features].sort(), 'features');
    assert.deepEqual(report.unsupported.map((u: { id: string }) => u.id).sort(), [...want.unsupported].sort(), 'unsupported');
    for (const u of report.unsupported) {
      // Every capture is a Debian guest: its initrds come from initramfs-tools, and the advice keeps it.
      assert.ok(u.device && u.reason.length > 40 && u.advice.startsWith('Keep initramfs-tools as the initrd generator'), `finding ${u.id} explains itself: ${u.advice}`);
    }
    const root = report.mounts.find((m: { target: string }) => m.target === '/');
    assert.ok(root, 'the root mount is reported');
    if (!want.unsupported.includes('nbd')) assert.ok(root.chain.length >= 1, 'the root has a device chain');
    for (const re of want.rootChainIncludes ?? []) assert.ok(root.chain.some((d: string) => re.test(d)), `the root chain ${root.chain.join(' > ')} has ${re}`);
    if (want.mounts) assert.deepEqual(report.mounts.map((m: { target: string }) => m.target), want.mounts);
    const suggest = await runCli(['suggest', '--json', '--snapshot', dir]);
    const variant = JSON.parse(suggest.stdout);
    assert.ok(variant.profiles.includes('base'));
    for (const f of want.features) {
      if (['plain'].includes(f)) continue;
      assert.ok(variant.profiles.includes(f === 'lvm-thin' ? 'lvm-thin' : f), `the ${f} profile is suggested`);
    }
  });
}

test('LVM RAID (lvmraid): the variant carries dm_raid, so nothing warns that it is missing', async () => {
  const r = await runCli(['suggest', '--json', '--snapshot', fixture('lvm-raid1')]);
  assert.equal(r.code, 0, r.stderr);
  const variant = JSON.parse(r.stdout) as { kernelModules: string[] };
  assert.ok(variant.kernelModules.includes('dm_raid'), variant.kernelModules.join(' '));
  const d = await runCli(['detect', '--json', '--snapshot', fixture('lvm-raid1')]);
  const report = JSON.parse(d.stdout) as { warnings: string[]; targetModules: string[]; featureReasons: Record<string, string[]> };
  assert.deepEqual(report.targetModules, ['dm_raid']);
  assert.ok(report.featureReasons.lvm!.some((x) => /LVM RAID volume vg0\/root .*dm-raid target, whose module the variant adds/.test(x)), report.featureReasons.lvm!.join('\n'));
  assert.deepEqual(report.warnings.filter((w) => /dm-raid|dm_raid/.test(w)), []);
  // A stack without LVM RAID adds no such module.
  const plain = JSON.parse((await runCli(['suggest', '--json', '--snapshot', fixture('lvm-two-pvs')])).stdout) as { kernelModules: string[] };
  assert.ok(!plain.kernelModules.includes('dm_raid'));
});
