/**
 * The rpm-md reader and the metadata cache under input no createrepo_c
 * writes: entity declarations, unknown entities, odd nesting, huge fields and
 * lists, truncation at every point, and damaged caches, through the library
 * and through the command a user runs. Each answer is a closure, a clear
 * refusal (InputError, exit 2), or for a damaged cache a rebuild with a
 * warning; never a crash, never an expansion, never superlinear time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError, WizardError } from '../../src/errors.js';
import { loadPool } from '../../src/packages/metadata.js';
import { resolve } from '../../src/packages/resolve.js';
import { systemRunner } from '../../src/system/run.js';
import { packageXml, primaryXml, prng, writeHandRepo, type HandPkg } from '../support/handmade-repo.js';
import { runCli, tempDir } from '../helpers.js';

let work = '';
let cleanup: () => Promise<void> = async () => {};
let n = 0;
before(async () => {
  ({ dir: work, cleanup } = await tempDir('iw-hostile-rpmmd-'));
});
after(() => cleanup());

const PKGS: HandPkg[] = [{ name: 'app', requires: ['lib', '(zlib-ng or zlib)'], size: 500 }, { name: 'lib', size: 40 }, { name: 'zlib', size: 7 }];

async function repo(xml: string | Buffer, how: 'gz' | 'none' = 'gz'): Promise<string> {
  const dir = path.join(work, `r${++n}`);
  await writeHandRepo(dir, xml, how);
  return dir;
}

const load = (dir: string, cacheDir: string | null = null) => loadPool({ kind: 'rpm-md', repos: [{ name: 'h', dir }] }, { runner: systemRunner, cacheDir });

type Outcome = { kind: 'closure'; names: string[]; ms: number } | { kind: 'refused'; message: string; ms: number };

/** Loads and resolves `app`; a crash (anything but a WizardError) fails the test with its name. */
async function outcome(dir: string): Promise<Outcome> {
  const t = performance.now();
  try {
    const { pool } = await load(dir);
    return { kind: 'closure', names: resolve(pool, ['app']).packages.map((p) => p.name).sort(), ms: performance.now() - t };
  } catch (err) {
    if (err instanceof InputError && err.exitCode === 2) return { kind: 'refused', message: err.message, ms: performance.now() - t };
    if (err instanceof WizardError && !err.message.startsWith('internal')) return { kind: 'refused', message: err.message, ms: performance.now() - t };
    throw err;
  }
}

test('an internal DTD with nested entities (a billion laughs) is never expanded', async () => {
  const laughs = '<!DOCTYPE metadata [<!ENTITY a "hahahahahahahahahahahahahahahahaha">' + Array.from({ length: 9 }, (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('') + ']>';
  const xml = primaryXml(PKGS).replace('\n<metadata', `\n${laughs}\n<metadata`).replace('<name>lib</name>', '<name>lib&j;</name>');
  const o = await outcome(await repo(xml));
  assert.ok(o.ms < 2000, `${o.ms} ms`);
  // Either refused, or read literally: "lib&j;" is not "lib", so app's requirement names a package that is missing.
  if (o.kind === 'closure') assert.ok(o.names.every((x) => x.length < 64), o.names.join(' '));
  else assert.match(o.message, /lib|entity|primary/i);
});

test('unknown entities, CDATA, comments and processing instructions: a closure or a clear refusal', async () => {
  const variants = [
    primaryXml(PKGS).replace('<name>zlib</name>', '<name>zlib&nbsp;</name>'),
    primaryXml(PKGS).replace('<name>zlib</name>', '<name><![CDATA[zlib]]></name>'),
    primaryXml(PKGS).replace('<package type="rpm"><name>lib', '<!-- <package type="rpm"><name>evil</name> --><package type="rpm"><name>lib'),
    primaryXml(PKGS).replace('<format>', '<format><?pi data?>'),
    primaryXml(PKGS).replace('<name>lib</name>', '<name>lib</name><name>other</name>'),
  ];
  for (const xml of variants) {
    const o = await outcome(await repo(xml));
    if (o.kind === 'closure') assert.ok(o.names.includes('app'), o.names.join(' '));
    else assert.ok(o.message.length > 10 && !/^\s+at /m.test(o.message), o.message);
  }
});

test('odd nesting: a package inside a package, a requires list inside a requires list, 100,000 nested elements', async () => {
  const inner = primaryXml(PKGS).replace('<format>', `<format>${packageXml({ name: 'ghost', requires: ['nothing'] })}`);
  const twice = primaryXml(PKGS).replace('<rpm:requires>', '<rpm:requires><rpm:requires>');
  const deep = primaryXml(PKGS).replace('<format>', `<format>${'<x>'.repeat(100_000)}${'</x>'.repeat(100_000)}`);
  for (const xml of [inner, twice, deep]) {
    const o = await outcome(await repo(xml));
    assert.ok(o.ms < 5000, `${o.ms} ms`);
    if (o.kind === 'closure') assert.ok(o.names.includes('app'));
  }
});

test('huge fields and lists load in linear time: a 4 MB name, 200,000 requirements of one package, 100,000 packages', async () => {
  const bigName = primaryXml([...PKGS, { name: 'x'.repeat(4 << 20) }]);
  const manyReqs = primaryXml([{ name: 'app', requires: Array.from({ length: 200_000 }, (_, i) => `cap${i % 50}`) }, ...Array.from({ length: 50 }, (_, i) => ({ name: `p${i}`, provides: [`cap${i}`] }))]);
  const manyPkgs = primaryXml([...PKGS, ...Array.from({ length: 100_000 }, (_, i) => ({ name: `filler${i}`, requires: [`filler${(i + 1) % 100_000}`] }))]);
  const times: Record<string, number> = {};
  for (const [label, xml] of Object.entries({ bigName, manyReqs, manyPkgs })) {
    const o = await outcome(await repo(xml));
    times[label] = Math.round(o.ms);
    assert.equal(o.kind, 'closure', label);
    assert.ok(o.ms < 20_000, `${label}: ${o.ms} ms`);
  }
  console.log(`hostile rpm-md sizes: ${JSON.stringify(times)} ms`);
});

test('primary cut at 60 points, plain and gzipped: each is refused as truncated or damaged, never a crash or a partial pool', async () => {
  const xml = Buffer.from(primaryXml([...PKGS, ...Array.from({ length: 40 }, (_, i) => ({ name: `more${i}`, requires: ['lib'] }))]));
  const gz = gzipSync(xml);
  const accepted: string[] = [];
  let refusedCount = 0;
  for (let k = 1; k <= 30; k++) {
    for (const [how, whole] of [['none', xml], ['gz', gz]] as const) {
      const cut = Math.floor((whole.length * k) / 31);
      const dir = path.join(work, `cut${++n}`);
      await writeHandRepo(dir, whole.subarray(0, cut), how, { stored: true });
      const o = await outcome(dir);
      if (o.kind === 'refused') refusedCount++;
      else accepted.push(`${how} cut at ${cut} of ${whole.length} bytes: ${o.names.length} packages`);
    }
  }
  assert.deepEqual(accepted, []);
  assert.equal(refusedCount, 60);
});

async function cacheFileOf(cacheDir: string): Promise<string> {
  const files = (await readdir(cacheDir)).filter((f) => !f.endsWith('.tmp'));
  assert.equal(files.length, 1, files.join(' '));
  return path.join(cacheDir, files[0]!);
}

test('a damaged cache, at 120 random places and lengths, is rebuilt with a warning and gives the fresh closure', async () => {
  const dir = await repo(primaryXml([...PKGS, ...Array.from({ length: 200 }, (_, i) => ({ name: `more${i}`, requires: ['lib'], size: i }))]));
  const cacheDir = path.join(work, 'cache-fuzz');
  const fresh = await load(dir, cacheDir);
  const expected = JSON.stringify(resolve(fresh.pool, ['app', 'more7']));
  const file = await cacheFileOf(cacheDir);
  const good = await readFile(file);
  const r = prng(13_2026);
  const outcomes = { rebuilt: 0, identical: 0 };
  for (let i = 0; i < 120; i++) {
    const bytes = Buffer.from(good);
    const at = Math.floor(r() * bytes.length);
    const how = i % 4;
    if (how === 0) bytes[at]! ^= 1 << Math.floor(r() * 8);
    else if (how === 1) bytes.fill(Math.floor(r() * 256), at, at + 1 + Math.floor(r() * 512));
    await writeFile(file, how === 2 ? bytes.subarray(0, at) : how === 3 ? Buffer.concat([bytes, Buffer.alloc(1 + Math.floor(r() * 64), 7)]) : bytes);
    const got = await load(dir, cacheDir);
    assert.equal(JSON.stringify(resolve(got.pool, ['app', 'more7'])), expected, `damage #${i}`);
    if (got.cache === 'miss') {
      assert.ok(got.warnings.some((w) => /metadata cache .* (is corrupt|is stale).*rebuilding it/.test(w)), got.warnings.join('\n'));
      outcomes.rebuilt++;
    } else outcomes.identical++; // a fill with the byte that was there already
    // The rebuilt cache is whole again.
    assert.equal((await load(dir, cacheDir)).cache, 'hit');
  }
  console.log(`hostile caches: 120 damaged, ${outcomes.rebuilt} rebuilt with a warning, ${outcomes.identical} unchanged bytes`);
  assert.ok(outcomes.rebuilt >= 100);
});

test('through the command: a bad repository is exit 2 with the file and a next step; a damaged cache is a warning and the same answer', async () => {
  const xdg = path.join(work, 'xdg');
  const env = { XDG_CACHE_HOME: xdg };
  const good = await repo(primaryXml(PKGS));
  const ok = await runCli(['closure', '--json', '--repo', `h=${good}`, '--packages', 'app'], env);
  assert.equal(ok.code, 0, ok.stderr);
  const answer = JSON.parse(ok.stdout).packages.map((p: { name: string }) => p.name);
  assert.deepEqual(answer.sort(), ['app', 'lib', 'zlib']);

  const bad = [
    await repo(primaryXml(PKGS).replace('<name>lib</name>', '<name>lib&#0;</name>')),
    await repo(primaryXml(PKGS).slice(0, 300)),
    await repo(Buffer.from('\x1f\x8b\x08\x00garbage'), 'none'),
  ];
  for (const dir of bad) {
    const r = await runCli(['closure', '--json', '--repo', `h=${dir}`, '--packages', 'app'], env);
    assert.equal(r.code, 2, `${dir}: ${r.stderr}`);
    // --json: the error is the document on stdout.
    const { error } = JSON.parse(r.stdout) as { error: { message: string; hint: string } };
    assert.match(error.message, /primary\.xml/);
    assert.match(error.hint, /refresh|rebuild|createrepo/i);
    assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, 'no stack trace');
    const plain = await runCli(['closure', '--repo', `h=${dir}`, '--packages', 'app'], env);
    assert.equal(plain.code, 2);
    assert.equal(plain.stdout, '');
    assert.ok(plain.stderr.includes(error.message) && plain.stderr.includes(error.hint), plain.stderr);
  }

  const cacheDir = path.join(xdg, 'initrd-wizard', 'metadata');
  const file = await cacheFileOf(cacheDir);
  const bytes = await readFile(file);
  bytes.fill(0x41, bytes.length >> 1, (bytes.length >> 1) + 16);
  await writeFile(file, bytes);
  const again = await runCli(['closure', '--json', '--repo', `h=${good}`, '--packages', 'app'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /warning: metadata cache .* rebuilding it/);
  assert.deepEqual(JSON.parse(again.stdout).packages.map((p: { name: string }) => p.name).sort(), answer);
});

test('a primary read in pieces cut anywhere gives the pool and the refusals of the whole document', async () => {
  const { parsePrimaryBytes: parsePrimaryPieces } = await import('../../src/packages/primary.js');
  const { PoolBuilder } = await import('../../src/packages/pool.js');
  const whole = primaryXml([...PKGS, { name: 'big', requires: ['lib', 'libc.so.6()(64bit)'], provides: ['big-tool = 1.0'], recommends: ['zlib'], size: 3 }]).replace('</metadata>', '</metadata>\n  \n');
  const parse = async (pieces: string[]) => {
    const b = new PoolBuilder('rpm', 'x86_64');
    try {
      await parsePrimaryPieces(pieces, 'h', b, 'p.xml');
      return JSON.stringify(b.finish(), (_k, v) => (ArrayBuffer.isView(v) ? [...(v as Int32Array)] : v));
    } catch (err) {
      if (err instanceof InputError) return `refused: ${err.message}`;
      throw err;
    }
  };
  const cuts = (text: string, seed: number) => {
    const rand = prng(seed);
    const out: string[] = [];
    for (let at = 0; at < text.length; ) {
      const len = 1 + Math.floor(rand() * (rand() < 0.5 ? 12 : 300));
      out.push(text.slice(at, at + len));
      at += len;
    }
    return out;
  };
  const truncated = whole.slice(0, whole.indexOf('<name>big'));
  const headless = whole.slice(whole.indexOf('<package'));
  const unclosed = whole.slice(0, whole.lastIndexOf('</metadata>'));
  const expected = await Promise.all([whole, truncated, headless, unclosed].map((t) => parse([t])));
  assert.ok(!expected[0]!.startsWith('refused'), expected[0]);
  assert.deepEqual(expected.slice(1).map((e) => e.replace(/:.*/, '')), ['refused', 'refused', 'refused']);
  for (let seed = 1; seed <= 40; seed++) {
    for (const [i, text] of [whole, truncated, headless, unclosed].entries()) assert.equal(await parse(cuts(text, seed)), expected[i], `seed ${seed}, document ${i}`);
  }
  // One character at a time, the worst case for tags that straddle pieces.
  assert.equal(await parse([...whole]), expected[0]);
});
