/**
 * Hostile snapshots, end to end: real captures mutated the ways a bug report
 * from a broken or malicious machine can be (truncated files, escape bytes in
 * names and mount points, absurd numbers, wrong JSON types, deep nesting,
 * duplicate devices, parent/child cycles, missing files, links, FIFOs), fed
 * to `detect` and `suggest` through main(). Every answer must be a report
 * (exit 0 or 3) or a refusal (exit 2); a crash is an exception, "internal
 * error", or any other exit code. The seed is fixed, so a failure replays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { fixture, fixtureNames, tempDir } from '../helpers.js';

const SEED = 0x1d5eed;
// About 15 s on an idle two-core machine (24 ms of CPU per input: two loads, two analyses); HOSTILE_INPUTS=20000 for a long run.
const INPUTS = Number(process.env.HOSTILE_INPUTS ?? 1200);
/** Inputs in flight at once, each in its own copies of the fixtures (two keep two cores busy). */
const WORKERS = 2;

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;
type Json = Record<string, unknown>;

const ESCAPES = ['\u001b[8m', '\u001b]0;pwned\u0007', '\u0000', '\r', '\n', '\u001c', '\u2028', '\u0085', '\u009b31m', '\ud800', '"', '\\', '\t', '../../etc/shadow', ' ', '[/x]', '%s%n'];
const NUMBERS: unknown[] = [-1, 0, 1e308, -1e308, 2 ** 64, 1.5, -0, 'NaN', '-1', '99999999999999999999', '1:2:3', Number.MAX_SAFE_INTEGER + 2];
const WRONG: unknown[] = [null, [], {}, 42, 'text', true, [[[]]], { children: null }, ''];

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every object inside a JSON value, for picking one to change. */
function objects(v: unknown, out: Json[] = [], depth = 0): Json[] {
  if (depth > 50) return out;
  if (Array.isArray(v)) for (const x of v) objects(x, out, depth + 1);
  else if (isObject(v)) {
    out.push(v);
    for (const x of Object.values(v)) objects(x, out, depth + 1);
  }
  return out;
}

function withJson(text: string, change: (j: unknown) => unknown): string {
  try {
    return JSON.stringify(change(JSON.parse(text)));
  } catch {
    return text;
  }
}

/** The device objects of an lsblk tree (or mounts of a findmnt tree). */
function nodes(j: unknown, key: 'blockdevices' | 'filesystems'): Json[] {
  const out: Json[] = [];
  const visit = (n: unknown, depth: number) => {
    if (!isObject(n) || depth > 64) return;
    out.push(n);
    if (Array.isArray(n.children)) for (const c of n.children) visit(c, depth + 1);
  };
  if (isObject(j) && Array.isArray(j[key])) for (const n of j[key]) visit(n, 0);
  return out;
}

type Files = Map<string, string>;
/** A mutation of the file contents; returns a short name for the record. */
type Mutation = (files: Files, r: Rng) => string;

const fileOf = (files: Files, r: Rng, pattern?: RegExp) => {
  const names = [...files.keys()].filter((k) => !pattern || pattern.test(k));
  return names.length ? r.pick(names) : null;
};

const MUTATIONS: Mutation[] = [
  function truncate(files, r) {
    const f = fileOf(files, r);
    if (f) files.set(f, files.get(f)!.slice(0, r.int(files.get(f)!.length + 1)));
    return 'truncate';
  },
  function spliceEscapes(files, r) {
    const f = fileOf(files, r);
    if (!f) return 'splice';
    const t = files.get(f)!;
    const at = r.int(t.length + 1);
    files.set(f, t.slice(0, at) + r.pick(ESCAPES) + t.slice(at));
    return 'splice';
  },
  function escapeNames(files, r) {
    const key = r.pick(['lsblk.json', 'findmnt.json'] as const);
    const text = files.get(key);
    if (!text) return 'names';
    files.set(
      key,
      withJson(text, (j) => {
        const list = nodes(j, key === 'lsblk.json' ? 'blockdevices' : 'filesystems');
        for (let i = 0; i < 1 + r.int(3) && list.length; i++) {
          const n = r.pick(list);
          const field = r.pick(key === 'lsblk.json' ? ['name', 'kname', 'path', 'mountpoints', 'fstype', 'uuid'] : ['target', 'source', 'fstype', 'fsroot']);
          const cur = n[field];
          const bad = `${typeof cur === 'string' ? cur : ''}${r.pick(ESCAPES)}`;
          n[field] = field === 'mountpoints' ? [bad, r.pick(ESCAPES)] : bad;
        }
        return j;
      }),
    );
    // The same escapes in the text files' mount points and names.
    for (const tab of ['fstab', 'crypttab']) {
      if (r.chance(0.5)) files.set(tab, (files.get(tab) ?? '') + `\n/dev/vda1 /mnt/${r.pick(ESCAPES)}x ext4 x-initrd.mount 0 0\nname${r.pick(ESCAPES)} /dev/vda2 none luks\n`);
    }
    return 'names';
  },
  function hugeNumbers(files, r) {
    const f = fileOf(files, r, /\.json$/);
    if (!f) return 'numbers';
    files.set(
      f,
      withJson(files.get(f)!, (j) => {
        const objs = objects(j);
        for (let i = 0; i < 1 + r.int(4) && objs.length; i++) {
          const o = r.pick(objs);
          const k = r.pick([...Object.keys(o), 'size', 'maj:min', 'format', 'exitCode', 'ro']);
          o[k] = r.pick(NUMBERS);
        }
        return j;
      }),
    );
    return 'numbers';
  },
  function wrongTypes(files, r) {
    const f = fileOf(files, r, /\.json$/);
    if (!f) return 'types';
    files.set(
      f,
      withJson(files.get(f)!, (j) => {
        if (r.chance(0.15)) return r.pick(WRONG);
        const objs = objects(j);
        if (!objs.length) return j;
        const o = r.pick(objs);
        const keys = Object.keys(o);
        o[keys.length ? r.pick(keys) : 'x'] = r.pick(WRONG);
        return j;
      }),
    );
    return 'types';
  },
  function deepNesting(files, r) {
    const depth = 500 + r.int(20_000);
    if (r.chance(0.5)) {
      let node: Json = { name: 'deep0', kname: 'deep0', type: 'crypt' };
      for (let i = 1; i < Math.min(depth, 3000); i++) node = { name: `deep${i}`, kname: `deep${i}`, type: 'lvm', children: [node] };
      files.set('lsblk.json', withJson(files.get('lsblk.json') ?? '{"blockdevices":[]}', (j) => (isObject(j) && Array.isArray(j.blockdevices) ? (j.blockdevices.push(node), j) : j)));
    } else {
      const f = fileOf(files, r, /\.json$/) ?? 'findmnt.json';
      files.set(f, '['.repeat(depth) + ']'.repeat(r.chance(0.5) ? depth : 0));
    }
    return 'nesting';
  },
  function duplicateDevices(files, r) {
    files.set(
      'lsblk.json',
      withJson(files.get('lsblk.json') ?? '', (j) => {
        const list = nodes(j, 'blockdevices');
        if (!isObject(j) || !Array.isArray(j.blockdevices) || !list.length) return j;
        for (let i = 0; i < 1 + r.int(3); i++) {
          const copy = JSON.parse(JSON.stringify(r.pick(list))) as Json;
          if (r.chance(0.5)) copy.type = r.pick(['disk', 'crypt', 'lvm', 'raid1', 'mpath', 'part', null]);
          if (r.chance(0.3)) copy.fstype = r.pick(['crypto_LUKS', 'btrfs', 'zfs_member', 'bcache', null]);
          j.blockdevices.push(copy);
        }
        return j;
      }),
    );
    return 'duplicates';
  },
  function cycles(files, r) {
    files.set(
      'lsblk.json',
      withJson(files.get('lsblk.json') ?? '', (j) => {
        const list = nodes(j, 'blockdevices');
        if (!isObject(j) || !Array.isArray(j.blockdevices) || list.length < 1) return j;
        // A device listed as the child of its own descendant (and of itself).
        const a = r.pick(list);
        const b = r.pick(list);
        const child = { name: a.name, kname: a.kname, type: a.type, children: [{ name: b.name, kname: b.kname, type: b.type }] };
        b.children = [...(Array.isArray(b.children) ? b.children : []), child];
        if (r.chance(0.5)) a.children = [...(Array.isArray(a.children) ? a.children : []), { name: a.name, kname: a.kname }];
        return j;
      }),
    );
    return 'cycles';
  },
  function missingFile(files, r) {
    const f = r.chance(0.5) ? r.pick(['lsblk.json', 'findmnt.json', 'fstab', 'snapshot.json', 'os-release', 'cmdline']) : fileOf(files, r);
    if (f) files.delete(f);
    return 'missing';
  },
  function tableLines(files, r) {
    const lines: string[] = [];
    for (let i = 0; i < 1 + r.int(50); i++) {
      lines.push(
        r.pick([
          `UUID=${r.int(1e6)} /srv/${i} ext4 x-initrd.mount 0 2`,
          `/dev/disk/by-uuid/${r.pick(ESCAPES)} /usr btrfs subvol=${r.pick(ESCAPES)},x-initrd.mount 0 0`,
          `LABEL= / xfs defaults 0 ${r.pick(['1', '-1', '99999999999999999999', 'x'])}`,
          `tmpfs /tmp tmpfs x-initrd.mount 0 0`,
          `server:/export /data nfs4 x-initrd.mount 0 0`,
          `${'a'.repeat(r.int(5000))} ${'b '.repeat(r.int(10))}`,
        ]),
      );
    }
    files.set('fstab', (r.chance(0.5) ? (files.get('fstab') ?? '') : '') + lines.join('\n'));
    if (r.chance(0.4)) files.set('cmdline', `root=${r.pick(['/dev/vda2', 'UUID=x', 'PARTUUID=', '/dev/dm-0', '254:0'])} resume=${r.pick(['UUID=none', '/dev/nope', '8:1', '', 'LABEL=swap'])} ${r.pick(ESCAPES)} ip=dhcp ${' '.repeat(r.int(10_000))}--`);
    if (r.chance(0.3)) files.set('sys-power-resume', r.pick(['254:3', '0:0', '-1:-1', 'x', '99999999999999999999:1']));
    if (r.chance(0.3)) files.set('crypttab', `${r.pick(['luks-x', 'swap', '-'])} ${r.pick(['/dev/vda3', 'UUID=', 'none'])} ${r.pick(['/dev/urandom', 'none', '/key:UUID=x'])} ${r.pick(['swap', 'header=/h', 'tpm2-device=auto', 'x-initrd.attach', ''])}\n`);
    return 'lines';
  },
  function osRelease(files, r) {
    files.set('os-release', `ID=${r.pick(['debian', 'constructor', '__proto__', 'Debian', 'fedora\u001c[Content]'])}\nID_LIKE="${r.pick(['ubuntu debian', 'toString', 'x\u2028y'])}"\nVERSION_ID="${r.pick(['12', '12\u001cExtraTrees=/etc/shadow', ''])}"\nPRETTY_NAME="${r.pick(ESCAPES)}"\n`);
    return 'os-release';
  },
  function header(files, r) {
    files.set('snapshot.json', JSON.stringify({ format: r.pick([1, 2, 0, -1, 1.5, '1', 1e308, null]), kernel: r.pick(['6.1.0', '\u001b[8m', 'a'.repeat(300), 7, '']), arch: 'x86_64', captured: r.pick(['', [], '2026']) }));
    return 'header';
  },
  function errorsJson(files, r) {
    files.set('errors.json', r.pick(['[]', '{}', 'null', '[{"probe": 1}]', JSON.stringify([{ probe: 'lsblk.json', command: 'lsblk', exitCode: -1, stderr: `x\n${r.pick(ESCAPES)}`.repeat(r.int(1000)) }]), '[' + '{"probe":"dmsetup-info","stderr":"x"},'.repeat(2000) + '{"probe":"x"}]']));
    return 'errors';
  },
  function randomBytes(files, r) {
    const f = fileOf(files, r);
    if (!f) return 'bytes';
    const n = r.int(2000);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(r.int(256));
    files.set(f, s);
    return 'bytes';
  },
];

/** Changes to the directory itself: what no content mutation can express. */
type FsChange = (dir: string, files: Files, r: Rng) => Promise<string>;

const FS_CHANGES: FsChange[] = [
  async function linkOutside(dir, files, r) {
    const f = r.pick([...files.keys()]);
    await rm(path.join(dir, f), { recursive: true, force: true });
    await symlink(r.pick(['/etc/passwd', '/dev/zero', '../../../../etc/passwd', '/proc/self/environ']), path.join(dir, f));
    return 'link';
  },
  async function fifo(dir, files, r) {
    const f = r.pick([...files.keys()]);
    await rm(path.join(dir, f), { recursive: true, force: true });
    execFileSync('mkfifo', [path.join(dir, f)]);
    return 'fifo';
  },
  async function directory(dir, files, r) {
    const f = r.pick([...files.keys()]);
    await rm(path.join(dir, f), { recursive: true, force: true });
    await mkdir(path.join(dir, f));
    return 'dir';
  },
];

interface Base {
  name: string;
  dir: string;
  files: Files;
}

/** Every regular file of a snapshot directory, by relative name (luks/ and sys-block/ included), sorted: the PRNG picks by position. */
async function readTree(dir: string): Promise<Files> {
  const out: Files = new Map();
  const list = execFileSync('find', ['.', '-type', 'f'], { cwd: dir, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  for (const rel of list) out.set(rel.replace(/^\.\//, ''), await readFile(path.join(dir, rel), 'utf8'));
  return out;
}

/** Writes the mutated files and returns how to put the base back. */
async function apply(base: Base, mutated: Files): Promise<string[]> {
  const touched: string[] = [];
  for (const [rel, content] of mutated) {
    if (base.files.get(rel) === content) continue;
    touched.push(rel);
    await mkdir(path.dirname(path.join(base.dir, rel)), { recursive: true });
    await writeFile(path.join(base.dir, rel), content);
  }
  for (const rel of base.files.keys()) {
    if (mutated.has(rel)) continue;
    touched.push(rel);
    await rm(path.join(base.dir, rel), { force: true });
  }
  return touched;
}

async function restore(base: Base, touched: Iterable<string>) {
  for (const rel of new Set(touched)) {
    const p = path.join(base.dir, rel);
    await rm(p, { recursive: true, force: true });
    const original = base.files.get(rel);
    if (original !== undefined) await writeFile(p, original);
  }
}

interface Outcome {
  code: number;
  out: string;
  thrown: unknown;
}

async function run(args: string[]): Promise<Outcome> {
  let out = '';
  const write = (s: string) => void (out += s);
  try {
    return { code: await main(args, { stdout: write, stderr: write }), out, thrown: null };
  } catch (err) {
    return { code: -1, out, thrown: err };
  }
}

function crashOf(o: Outcome): string | null {
  if (o.thrown) return `threw ${String(o.thrown)}`;
  if (/internal error/.test(o.out)) return `internal error: ${o.out.match(/internal error.*/)?.[0]}`;
  if (![0, 2, 3].includes(o.code)) return `exit ${o.code}`;
  return null;
}

async function shmDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp('/dev/shm/iw-hostile-fuzz-');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

interface Tally {
  refused: number;
  answered: number;
  leaks: number;
  crashes: string[];
}

/** One input: mutate a copy of a capture, ask detect and suggest, put the copy back. Its own PRNG keeps it replayable alone. */
async function oneInput(i: number, seed: number, bases: Base[], tally: Tally): Promise<void> {
  const r = prng(seed);
  const base = r.pick(bases);
  const files: Files = new Map(base.files);
  const applied: string[] = [];
  for (let k = 0; k < 1 + r.int(3); k++) applied.push(r.pick(MUTATIONS)(files, r));
  const fsChange = r.chance(0.05) ? r.pick(FS_CHANGES) : null;
  const detectArgs = ['detect', '--snapshot', base.dir, ...(r.chance(0.5) ? ['--json'] : [])];
  const suggestArgs = ['suggest', '--snapshot', base.dir, ...(r.chance(0.5) ? ['--json'] : [])];
  const touched = await apply(base, files);
  try {
    if (fsChange) {
      applied.push(await fsChange(base.dir, files, r));
      touched.push(...files.keys());
    }
    const detect = await run(detectArgs);
    const suggest = await run(suggestArgs);
    for (const [cmd, o] of [['detect', detect], ['suggest', suggest]] as const) {
      const crash = crashOf(o);
      if (crash) tally.crashes.push(`input ${i} (seed ${seed}, ${base.name}: ${applied.join(', ')}), ${cmd}: ${crash}`);
      // A link to a host file must never show what it points at.
      if (/root:x:0:0:/.test(o.out)) tally.leaks++;
    }
    if (detect.code === 2) tally.refused++;
    else tally.answered++;
  } finally {
    await restore(base, touched);
  }
}

test(`hostile snapshots: detect and suggest never crash (seed ${SEED})`, { timeout: 300_000 }, async () => {
  // In memory when the machine has a tmpfs: thousands of small rewrites cost less there.
  const { dir, cleanup } = existsSync('/dev/shm') ? await shmDir() : await tempDir('iw-hostile-fuzz-');
  try {
    // Per worker, a copy of every capture to mutate in place.
    const sets: Base[][] = [];
    for (let w = 0; w < WORKERS; w++) {
      const bases: Base[] = [];
      for (const name of await fixtureNames()) {
        const copy = path.join(dir, String(w), name);
        await cp(fixture(name), copy, { recursive: true });
        bases.push({ name, dir: copy, files: await readTree(copy) });
      }
      sets.push(bases);
    }
    assert.ok(sets[0]!.length > 0, 'the captured fixtures are there to mutate');
    // Seeds drawn in order from the master seed: the same inputs whatever the scheduling.
    const master = prng(SEED);
    const seeds = Array.from({ length: INPUTS }, () => master.int(2 ** 32));
    const tally: Tally = { refused: 0, answered: 0, leaks: 0, crashes: [] };
    const started = Date.now();
    await Promise.all(
      sets.map(async (bases, w) => {
        for (let i = w; i < INPUTS; i += WORKERS) await oneInput(i, seeds[i]!, bases, tally);
      }),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`hostile snapshots: ${INPUTS} inputs, ${tally.refused} refused with exit 2, ${tally.answered} answered, ${tally.crashes.length} crashes (${seconds} s, seed ${SEED})`);
    assert.deepEqual(tally.crashes.slice(0, 10), [], `${tally.crashes.length} crashes`);
    assert.equal(tally.leaks, 0, 'no output showed a linked file');
    assert.ok(tally.refused > INPUTS / 20 && tally.answered > INPUTS / 20, 'the mutations reach both the refusals and the analyzer');
  } finally {
    await cleanup();
  }
});
