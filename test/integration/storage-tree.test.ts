/**
 * The storage under each mount as a tree (issue 14 item 3): a device built
 * from several others (RAID members, PVs, multipath paths) has them all as
 * children, in `detect --json` (`mounts[].stack`) and in the drawing of both
 * faces. The chain drew RAID1 as "vda → vdb → vda1 → vdb1 → md0".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostReport, StackNode } from '../../src/host/report.js';
import { hostLines } from '../../src/ui/view.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fixture, ROOT, runCli } from '../helpers.js';

/** A tree as one line: name:type(child,child), a repeat marked ^. */
const flat = (n: StackNode): string => `${n.repeat ? '^' : ''}${n.name}:${n.type}${n.children.length ? `(${n.children.map(flat).join(',')})` : ''}`;

async function report(name: string): Promise<{ json: HostReport; text: string }> {
  const [j, t] = await Promise.all([runCli(['detect', '--json', '--snapshot', fixture(name)]), runCli(['detect', '--snapshot', fixture(name)])]);
  return { json: JSON.parse(j.stdout) as HostReport, text: t.stdout };
}

const rootStack = (r: HostReport) => r.mounts.find((m) => m.target === '/')!.stack!;

test('RAID1: md0 over both members, each partition over its disk', async () => {
  const { json, text } = await report('raid1');
  assert.equal(flat(rootStack(json)), 'md0:raid1(vda2:part(vda:disk),vdb2:part(vdb:disk))');
  assert.match(text, /^ {4}└─ md0 {2}raid1\n {7}├─ vda2 {2}part\n {7}│ {2}└─ vda {2}disk\n {7}└─ vdb2 {2}part\n {10}└─ vdb {2}disk$/m);
  // The chain stays for old readers.
  assert.deepEqual(json.mounts.find((m) => m.target === '/')!.chain, ['vda2', 'vdb2', 'md0']);
});

test('LVM over two PVs, multipath, and LUKS under LVM', async () => {
  assert.equal(flat(rootStack((await report('lvm-two-pvs')).json)), 'vg0-root:lvm(vda3:part(vda:disk),vdb:disk)');
  assert.equal(flat(rootStack((await report('multipath')).json)), 'mpatha-part2:part(mpatha:mpath(vda:disk,vdb:disk))');
  const hib = (await report('luks2-lvm-hibernate')).json;
  assert.equal(flat(rootStack(hib)), 'iw--guest--vg-root:lvm(vda3_crypt:crypt(vda3:part(vda:disk)))');
  assert.equal(flat(hib.mounts.find((m) => m.role === 'resume')!.stack!), 'iw--guest--vg-swap_1:lvm(vda3_crypt:crypt(vda3:part(vda:disk)))');
});

test('the wizard draws the same tree: both RAID members under md0', async () => {
  const { json } = await report('raid1');
  const screen = hostLines(json).map((l) => l.map((s) => s.t).join('')).join('\n');
  assert.match(screen, /^ {2}└─ md0 {2}raid1.*\n {2} {3}├─ vda2 {2}part.*\n {2} {3}│ {2}└─ vda {2}disk.*\n {2} {3}└─ vdb2 {2}part.*\n {2} {6}└─ vdb {2}disk/m);
});

test('LVM RAID: a PV under two sub-LVs is drawn once with what is below it, then marked as above', async () => {
  const { json, text } = await report('lvm-raid1');
  assert.equal(flat(rootStack(json)), 'vg0-root:lvm(vg0-root_rmeta_0:lvm(vda3:part(vda:disk)),vg0-root_rimage_0:lvm(^vda3:part),vg0-root_rmeta_1:lvm(vdb:disk),vg0-root_rimage_1:lvm(^vdb:disk))');
  assert.match(text, /├─ vg0-root_rimage_0 {2}lvm\n.*└─ vda3 {2}part {2}\(as above\)$/m);
});

test('every real capture: each block-backed mount has a tree whose leaves are its disks, holding every chain device', async () => {
  for (const name of ['raid1', 'raid5-xfs', 'raid1-luks-lvm', 'lvm-raid1', 'lvm-thin-root', 'verity-usr', 'bcache', 'imsm', 'separate-usr', 'btrfs-luks-tpm2-hibernate']) {
    const { json } = await report(name);
    for (const m of json.mounts) {
      if (!m.stack) continue;
      const names = new Set<string>();
      const leaves = new Set<string>();
      const todo = [m.stack];
      while (todo.length) {
        const n = todo.pop()!;
        names.add(n.name);
        if (!n.children.length && !n.repeat) leaves.add(n.name);
        todo.push(...n.children);
      }
      for (const d of m.chain) assert.ok(names.has(d), `${name} ${m.target}: ${d} of the chain is in the tree`);
      assert.deepEqual([...leaves].sort(), [...m.disks].sort(), `${name} ${m.target}: the leaves are the disks`);
    }
  }
});

test("the repository's contract document shows detect --json as it is: its example is the raid1 capture's", async () => {
  const doc = await readFile(path.join(ROOT, 'docs/cli-contract.md'), 'utf8');
  const example = JSON.parse(/## `detect[^\n]*\n+```json\n([\s\S]*?)\n```/.exec(doc)![1]!) as HostReport;
  const { json } = await report('raid1');
  assert.deepEqual(example.mounts[0], json.mounts[0]);
  assert.deepEqual(example.featureReasons, json.featureReasons);
  assert.deepEqual(example.devices[0], json.devices.find((d) => d.name === 'md0'));
  assert.deepEqual(Object.keys(example).sort(), Object.keys(json).sort(), 'every top-level field is documented');
});
