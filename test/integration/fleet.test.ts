/**
 * `fleet`: every host answered exactly as detect and suggest answer it, the
 * supported ones grouped by the initrd they need, and a snapshot that cannot
 * be read reported as that host's answer without stopping the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { FIXTURES, fixture, fixtureNames, tempDir } from '../helpers.js';
import { makeFleet } from '../support/fleet.js';

async function run(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(args, { stdout: (s) => void (stdout += s), stderr: () => undefined });
  return { code, stdout };
}

interface Fleet {
  hosts: Array<{ name: string; path: string; supported: boolean; features: string[]; unsupported: Array<{ id: string; device: string; reason: string; advice: string }>; variant: string | null; error: string | null }>;
  variants: Array<{ id: string; distro: string; packages: string[]; modules: string[]; hosts: string[] }>;
  summary: { hosts: number; supported: number; unsupported: number; unreadable: number; variants: number };
}

test('every capture: the same verdict, features, findings and variant as detect and suggest give it', async () => {
  const r = await run(['fleet', FIXTURES, '--json']);
  assert.equal(r.code, 3, 'some captures are unsupported');
  const fleet = JSON.parse(r.stdout) as Fleet;
  const names = await fixtureNames();
  assert.deepEqual(fleet.hosts.map((h) => h.name).sort(), [...names].sort());
  const byId = new Map(fleet.variants.map((v) => [v.id, v]));
  for (const h of fleet.hosts) {
    const detect = JSON.parse((await run(['detect', '--json', '--snapshot', fixture(h.name)])).stdout);
    assert.deepEqual(h.features, detect.features, h.name);
    assert.deepEqual(h.unsupported, detect.unsupported.map(({ id, device, reason, advice }: Fleet['hosts'][number]['unsupported'][number]) => ({ id, device, reason, advice })), h.name);
    assert.equal(h.supported, !detect.unsupported.length && !detect.incomplete.length, h.name);
    if (!h.supported) {
      assert.equal(h.variant, null, h.name);
      continue;
    }
    const suggest = JSON.parse((await run(['suggest', '--json', '--snapshot', fixture(h.name)])).stdout);
    const v = byId.get(h.variant!)!;
    assert.deepEqual([v.packages, v.modules], [suggest.packages, suggest.kernelModules], h.name);
    assert.ok(v.hosts.includes(h.name));
    assert.equal(v.distro, `${suggest.distro} ${suggest.distroVersion}`);
  }
  // Grouping: one variant per distinct (release, packages, modules), and every supported host in exactly one.
  const distinct = new Set(fleet.variants.map((v) => JSON.stringify([v.distro, v.packages, v.modules])));
  assert.equal(distinct.size, fleet.variants.length);
  assert.equal(fleet.variants.reduce((n, v) => n + v.hosts.length, 0), fleet.summary.supported);
  assert.ok(fleet.variants.some((v) => v.hosts.length > 1), 'hosts that need the same initrd share a variant');
  // bookworm's and trixie's RAID1 hosts need different initrds even with the same package names.
  const raid = (name: string) => fleet.hosts.find((h) => h.name === name)!.variant;
  assert.notEqual(raid('raid1'), raid('trixie-raid1'));
  assert.equal(raid('raid1'), raid('imsm'));
});

test('an unreadable snapshot is that host\'s answer; the run goes on; exit 1 with nothing unsupported', async () => {
  const { dir, cleanup } = await tempDir('iw-fleet-');
  try {
    await cp(fixture('raid1'), path.join(dir, 'good'), { recursive: true });
    await mkdir(path.join(dir, 'broken'));
    await writeFile(path.join(dir, 'broken', 'snapshot.json'), '{ not json');
    await cp(fixture('lvm-two-pvs'), path.join(dir, '=HYPERLINK("x")'), { recursive: true });
    await symlink(fixture('raid1'), path.join(dir, 'linked'));
    const r = await run(['fleet', dir, path.join(dir, 'missing'), '--json']);
    assert.equal(r.code, 1);
    const fleet = JSON.parse(r.stdout) as Fleet;
    const by = new Map(fleet.hosts.map((h) => [h.name, h]));
    assert.equal(by.get('good')!.supported, true);
    assert.match(by.get('broken')!.error!, /snapshot\.json/);
    assert.match(by.get('missing')!.error!, /no such file or directory/);
    assert.match(by.get('linked')!.error!, /a symbolic link, not a snapshot/, 'a link is reported, not followed and not skipped');
    assert.deepEqual(fleet.summary, { hosts: 5, supported: 2, unsupported: 0, cannotTell: 0, unreadable: 3, variants: 2 });

    const csv = (await run(['fleet', dir, '--csv'])).stdout.trim().split('\n');
    assert.equal(csv[0], 'host,path,verdict,features,unsupported,variant,detail');
    const formula = csv.find((l) => l.includes('HYPERLINK'))!;
    assert.match(formula, /^"'=HYPERLINK\(""x""\)",/, 'a name that starts a formula is quoted and defused');
    assert.ok(csv.some((l) => /^broken,.*,UNREADABLE,/.test(l)));

    const text = (await run(['fleet', dir])).stdout;
    assert.match(text, /^2 variants cover 2 supported hosts of 4; 0 not supported, 0 cannot tell, 2 unreadable\.$/m);
  } finally {
    await cleanup();
  }
});

test('fleet with no path is bad usage', async () => {
  assert.equal((await run(['fleet'])).code, 2);
});

/** The whole output of `fleet` in one form, with the hosts answered on `threads` threads. */
async function streamed(paths: string[], form: 'json' | 'text', o: { csv?: boolean; threads?: number } = {}): Promise<{ out: string; code: number }> {
  const { fleetCommand } = await import('../../src/commands/fleet.js');
  const r = await fleetCommand({ paths, csv: o.csv, threads: o.threads });
  let out = '';
  for await (const piece of r.stream(form)) out += piece;
  return { out, code: r.exitCode() };
}

test('written as it goes, the JSON is the very document of the whole report, and worker threads answer exactly as this thread does, in order', async () => {
  const { analyzeFleet } = await import('../../src/service/fleet.js');
  const { loadProfiles } = await import('../../src/variant/profiles.js');
  const whole = await analyzeFleet([FIXTURES], await loadProfiles(), { threads: 1 });
  const one = await streamed([FIXTURES], 'json', { threads: 1 });
  assert.equal(one.out, JSON.stringify(whole, null, 2) + '\n');
  assert.equal(one.code, 3);

  // Enough hosts for several batches on two workers, the captures interleaved, half as directories and half as archives.
  const { dir, cleanup } = await tempDir('iw-fleet-many-');
  try {
    await makeFleet(path.join(dir, 'dirs'), path.join(dir, 'originals'), 350, 'dir', 7);
    await makeFleet(path.join(dir, 'tars'), path.join(dir, 'originals'), 350, 'tar', 11);
    const paths = [path.join(dir, 'dirs'), path.join(dir, 'tars')];
    for (const form of ['json', 'text'] as const) {
      const inline = await streamed(paths, form, { threads: 1 });
      const threaded = await streamed(paths, form, { threads: 2 });
      assert.equal(threaded.out, inline.out, form);
      assert.equal(threaded.code, inline.code);
    }
    const csv = await streamed(paths, 'text', { csv: true, threads: 2 });
    assert.equal(csv.out.trim().split('\n').length, 701);
  } finally {
    await cleanup();
  }
});
