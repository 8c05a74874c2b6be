/**
 * Fuzzing with a fixed seed: mutated journals and roots whose directories are
 * swapped for links, FIFOs and files. Every run must end in a clear answer
 * (exit 0, 1 or 2, never "internal error" or a throw), and nothing outside
 * the root may be read into the output, changed or deleted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { main } from '../../src/cli.js';
import { makeRoot, treeHash } from '../support/roots.js';
import { fixture, tempDir } from '../helpers.js';

const skip = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '') ? false : 'mkosi >= 24 missing';
const SECRET = 'SECRET-beyond-the-root';
const SNAP = fixture('luks2-lvm-hibernate');

interface Outcome {
  code: number;
  out: string;
}

async function cli(args: string[]): Promise<Outcome> {
  let out = '';
  try {
    const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (out += s) });
    return { code, out };
  } catch (err) {
    return { code: -1, out: `threw: ${err instanceof Error ? err.stack : String(err)}` };
  }
}

class Tally {
  inputs = 0;
  byCode = new Map<number, number>();
  crashes: string[] = [];
  add(label: string, o: Outcome) {
    this.inputs++;
    this.byCode.set(o.code, (this.byCode.get(o.code) ?? 0) + 1);
    if (o.code < 0 || o.code > 3 || /internal error/.test(o.out)) this.crashes.push(`${label}: ${o.out.slice(0, 400)}`);
  }
  line(what: string): string {
    return `hostile ${what}: ${this.inputs} inputs, ${this.byCode.get(2) ?? 0} refused with exit 2, ${this.byCode.get(1) ?? 0} failed cleanly (exit 1), ${this.byCode.get(0) ?? 0} accepted, ${this.crashes.length} crashes`;
  }
}

/** A root with an install in place, and a directory beside it that nothing may touch. */
async function installedRoot(base: string): Promise<{ root: string; outside: string }> {
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  await mkdir(root, { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(outside, 'install.conf'), `${SECRET}\n`);
  await writeFile(path.join(outside, 'journal.json'), `${SECRET}\n`);
  await makeRoot(root, 'commented-install-conf');
  const r = await cli(['install', '--root', root, '--snapshot', SNAP, '--yes', '--force']);
  assert.equal(r.code, 0, r.out);
  return { root, outside };
}

const journalMutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('version', 'phase', 'entries', 'createdDirs', 'run', 'base', 'tool'), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ kind: fc.constant('entry' as const), index: fc.nat(8), key: fc.constantFrom('path', 'prior', 'before', 'installed'), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('/etc/shadow', '/etc/kernel/../../etc/passwd', '/boot/x\u001b[8m', '/etc/kernel/install.conf\n', '', '/'), fc.record({ type: fc.constantFrom('file', 'symlink', 'absent'), content: fc.base64String({ maxLength: 40 }), target: fc.constantFrom('/dev/null', '../../../outside/install.conf', ''), mode: fc.integer({ min: -5, max: 70000 }), uid: fc.integer({ min: -1, max: 5 }), gid: fc.nat(5), sha256: fc.hexaString({ minLength: 0, maxLength: 64 }) })) }),
  fc.record({ kind: fc.constant('text' as const), text: fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('', 'null', '[]', '{', '{"version":1}', '\u0000\u0000')) }),
);

test('mutated journals: every revert and install answers clearly and nothing outside the root changes', { skip, timeout: 300_000 }, async () => {
  const { dir, cleanup } = await tempDir('iw-fuzz-journal-');
  const tally = new Tally();
  try {
    const { root, outside } = await installedRoot(dir);
    const journalFile = path.join(root, 'var/lib/initrd-wizard/journal.json');
    const good = await readFile(journalFile, 'utf8');
    const outsideHash = await treeHash(outside);
    const samples = fc.sample(fc.array(journalMutation, { minLength: 1, maxLength: 3 }), { numRuns: 150, seed: 10 });
    for (const [i, mutations] of samples.entries()) {
      let text = good;
      for (const m of mutations) {
        if (m.kind === 'text') text = m.text;
        else {
          let j: Record<string, unknown>;
          try {
            j = JSON.parse(text) as Record<string, unknown>;
          } catch {
            continue;
          }
          if (j === null || typeof j !== 'object') continue;
          if (m.kind === 'set') j[m.key] = m.value;
          else if (Array.isArray(j.entries) && j.entries.length) {
            const e = j.entries[m.index % j.entries.length];
            if (e && typeof e === 'object') (e as Record<string, unknown>)[m.key] = m.value;
          }
          text = JSON.stringify(j);
        }
      }
      // A fresh copy of the installed root each time, with the mutated journal.
      const work = path.join(dir, `w${i}`);
      await cp(root, work, { recursive: true, verbatimSymlinks: true });
      await writeFile(path.join(work, 'var/lib/initrd-wizard/journal.json'), text);
      const args = i % 10 === 9 ? ['install', '--root', work, '--snapshot', SNAP, '--yes', '--force'] : ['revert', '--root', work, ...(i % 2 === 1 ? ['--force'] : [])];
      const o = await cli(args);
      tally.add(`${args[0]} with journal ${JSON.stringify(mutations).slice(0, 200)}`, o);
      assert.doesNotMatch(o.out, new RegExp(SECRET));
      await rm(work, { recursive: true, force: true });
    }
    assert.equal(await treeHash(outside), outsideHash, 'nothing outside the root changed');
    void journalFile;
  } finally {
    await cleanup();
  }
  console.log(tally.line('journals'));
  assert.deepEqual(tally.crashes, []);
});

/** What a hostile root can put where install and revert work. */
const ROOT_TRAPS = ['link-out', 'link-loop', 'fifo', 'dir', 'file', 'dangling'] as const;
const ROOT_PLACES = ['/etc/kernel', '/etc/kernel/install.conf', '/etc/kernel/install.d', '/etc/mkosi-initrd', '/etc/mkosi-initrd/mkosi.conf.d', '/var/lib/initrd-wizard', '/var/lib/initrd-wizard/journal.json', '/var/lib/initrd-wizard/lock', '/usr/lib/kernel/install.d/50-dracut.install', '/etc/os-release', '/var/lib'];

async function setTrap(root: string, outside: string, place: string, trap: (typeof ROOT_TRAPS)[number]): Promise<void> {
  const p = path.join(root, place);
  await rm(p, { recursive: true, force: true });
  await mkdir(path.dirname(p), { recursive: true });
  switch (trap) {
    case 'link-out':
      await symlink(place.endsWith('.conf') || place.endsWith('.json') ? path.join(outside, path.basename(place)) : outside, p);
      break;
    case 'link-loop':
      await symlink(p, p);
      break;
    case 'fifo':
      spawnSync('mkfifo', [p]);
      break;
    case 'dir':
      await mkdir(p);
      break;
    case 'file':
      await writeFile(p, 'not what was expected\n');
      break;
    case 'dangling':
      await symlink('/nonexistent/target', p);
      break;
  }
}

test('roots with links, FIFOs and swapped files: install, dry run and revert answer clearly, outside untouched', { skip, timeout: 600_000 }, async () => {
  const { dir, cleanup } = await tempDir('iw-fuzz-root-');
  const tally = new Tally();
  try {
    const { root: installed, outside } = await installedRoot(path.join(dir, 'base'));
    const fresh = path.join(dir, 'fresh');
    await mkdir(fresh);
    await makeRoot(fresh, 'commented-install-conf');
    const outsideHash = await treeHash(outside);
    let i = 0;
    for (const place of ROOT_PLACES) {
      for (const trap of ROOT_TRAPS) {
        for (const [start, args] of [
          [fresh, (r: string) => ['install', '--root', r, '--snapshot', SNAP, '--dry-run', '--force']],
          [fresh, (r: string) => ['install', '--root', r, '--snapshot', SNAP, '--yes', '--force']],
          [installed, (r: string) => ['revert', '--root', r, '--force']],
        ] as const) {
          const work = path.join(dir, `w${i++}`);
          await cp(start, work, { recursive: true, verbatimSymlinks: true });
          await setTrap(work, outside, place, trap);
          const o = await cli(args(work));
          tally.add(`${args(work)[0]} with ${trap} at ${place}`, o);
          assert.doesNotMatch(o.out, new RegExp(SECRET), `${trap} at ${place}`);
          await rm(work, { recursive: true, force: true });
        }
      }
    }
    assert.equal(await treeHash(outside), outsideHash, 'nothing outside the root changed');
  } finally {
    await cleanup();
  }
  console.log(tally.line('roots'));
  assert.deepEqual(tally.crashes, []);
});
