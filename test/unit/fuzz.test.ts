/**
 * Parsers see whatever a snapshot holds: truncated JSON, another tool's
 * output, binary junk. They must answer with data or a typed problem, never
 * throw; the analyzer may only refuse with an InputError naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { parseLsblk } from '../../src/host/parse/lsblk.js';
import { parseFindmnt } from '../../src/host/parse/findmnt.js';
import { parseCrypttab, parseFstab, parseSwaps } from '../../src/host/parse/tabfile.js';
import { parseCmdline } from '../../src/host/parse/cmdline.js';
import { parseMdadmScan, parseMdstat } from '../../src/host/parse/mdadm.js';
import { parseLvmReport } from '../../src/host/parse/lvm.js';
import { parseDmsetupInfo, parseDmsetupTable } from '../../src/host/parse/dmsetup.js';
import { parseLuks2Json, parseLuksDumpText } from '../../src/host/parse/luks.js';
import { parseKeyValue } from '../../src/host/parse/keyvalue.js';
import { analyze } from '../../src/host/analyze.js';
import { loadSnapshot, type Snapshot } from '../../src/host/snapshot.js';
import { InputError } from '../../src/errors.js';
import { fixture, fixtureNames } from '../helpers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

type AnyParser = (text: string) => unknown;
const PARSERS: Record<string, AnyParser> = {
  'lsblk.json': parseLsblk,
  'findmnt.json': parseFindmnt,
  fstab: (t) => parseFstab(t),
  crypttab: (t) => parseCrypttab(t),
  swaps: parseSwaps,
  cmdline: parseCmdline,
  'kernel-cmdline': parseCmdline,
  'mdadm-detail-scan': (t) => parseMdadmScan(t),
  'mdadm.conf': (t) => parseMdadmScan(t, 'mdadm.conf'),
  mdstat: parseMdstat,
  'lvm-fullreport.json': parseLvmReport,
  'dmsetup-info': parseDmsetupInfo,
  'dmsetup-table': parseDmsetupTable,
  'luks.json': parseLuks2Json,
  'luks.txt': parseLuksDumpText,
  'os-release': parseKeyValue,
};

/** Real inputs to mutate: every captured fixture, plus this machine's own lsblk and findmnt. */
async function corpus(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const add = (k: string, v: string) => out.set(k, [...(out.get(k) ?? []), v]);
  for (const name of await fixtureNames()) {
    const snap = await loadSnapshot(fixture(name));
    for (const [file, text] of snap.files) {
      const key = file.startsWith('luks/') ? (file.endsWith('.json') ? 'luks.json' : 'luks.txt') : file;
      if (key in PARSERS) add(key, text);
    }
  }
  for (const [key, argv] of [['lsblk.json', ['lsblk', '--json', '--bytes', '--output-all']], ['findmnt.json', ['findmnt', '--json', '--output-all']]] as const) {
    try {
      add(key, execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' }));
    } catch {
      // not available: the fixtures still cover it
    }
  }
  return out;
}

/** Mutations that real breakage produces: truncation, a chunk cut out, junk spliced in, a JSON value replaced. */
function mutated(seed: string): fc.Arbitrary<string> {
  const len = seed.length;
  return fc.oneof(
    fc.nat({ max: len }).map((n) => seed.slice(0, n)),
    fc.tuple(fc.nat({ max: len }), fc.nat({ max: 200 })).map(([at, n]) => seed.slice(0, at) + seed.slice(at + n)),
    fc.tuple(fc.nat({ max: len }), fc.string({ maxLength: 40 })).map(([at, junk]) => seed.slice(0, at) + junk + seed.slice(at)),
    fc.tuple(fc.nat({ max: len }), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', 'null', '\n', '\\', '\u0000', '=', '#')).map(
      ([at, c]) => seed.slice(0, at) + c + seed.slice(at + 1),
    ),
    fc.jsonValue().map((v) => {
      try {
        const j = JSON.parse(seed) as unknown;
        // Replace one top-level or nested value with random JSON.
        const replace = (node: unknown, depth: number): unknown => {
          if (depth > 3 || typeof node !== 'object' || node === null) return v;
          const keys = Object.keys(node);
          if (!keys.length) return v;
          const k = keys[(JSON.stringify(v).length + depth) % keys.length]!;
          return { ...(node as object), [k]: replace((node as Record<string, unknown>)[k], depth + 1) };
        };
        return JSON.stringify(replace(j, 0));
      } catch {
        return seed + JSON.stringify(v);
      }
    }),
  );
}

const randomText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.fullUnicodeString({ maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
);

test('every parser survives random input without throwing', () => {
  for (const [name, parse] of Object.entries(PARSERS)) {
    fc.assert(
      fc.property(randomText, (text) => {
        parse(text);
      }),
      { numRuns: RUNS, seed: 42 },
    );
    void name;
  }
});

test('every parser survives mutated real captures without throwing', async () => {
  const seeds = await corpus();
  assert.ok((seeds.get('lsblk.json') ?? []).length > 0, 'at least one real lsblk output to mutate');
  let runs = 0;
  const seedCount = [...seeds.values()].reduce((n, t) => n + Math.min(t.length, 6), 0);
  const perSeed = Math.max(50, Math.ceil((RUNS * 2) / seedCount));
  for (const [key, texts] of seeds) {
    const parse = PARSERS[key]!;
    for (const text of texts.slice(0, 6)) {
      fc.assert(
        fc.property(mutated(text), (m) => {
          runs++;
          const r = parse(m) as { ok?: boolean; error?: unknown };
          if (r && typeof r === 'object' && 'ok' in r && r.ok === false) assert.equal(typeof r.error, 'string');
        }),
        { numRuns: perSeed, seed: 7 },
      );
    }
  }
  assert.ok(runs >= 1000, `ran ${runs} mutated inputs`);
});

test('the analyzer either reports or refuses with an InputError, for any single corrupted file', async () => {
  const names = await fixtureNames();
  const bases: Snapshot[] = [];
  for (const n of names.slice(0, 8)) bases.push(await loadSnapshot(fixture(n)));
  if (!bases.length) {
    // No captures yet: build one from this machine's real outputs.
    const files = new Map<string, string>();
    files.set('lsblk.json', execFileSync('lsblk', ['--json', '--bytes', '--output-all'], { encoding: 'utf8' }));
    files.set('findmnt.json', execFileSync('findmnt', ['--json', '--output-all'], { encoding: 'utf8' }));
    bases.push({ dir: 'live', meta: { format: 1, captured: '', kernel: '', arch: '', capturedBy: '' }, files, errors: [], warnings: [] });
  }
  let reports = 0;
  let refusals = 0;
  for (const base of bases) {
    const keys = [...base.files.keys()];
    fc.assert(
      fc.property(
        fc.constantFrom(...keys).chain((k) => fc.tuple(fc.constant(k), fc.oneof(mutated(base.files.get(k)!), randomText))),
        ([key, text]) => {
          const files = new Map(base.files);
          files.set(key, text);
          try {
            const report = analyze({ ...base, files });
            assert.ok(Array.isArray(report.features));
            reports++;
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            assert.match(err.message, /lsblk\.json|findmnt|fstab/);
            refusals++;
          }
        },
      ),
      { numRuns: Math.max(200, Math.floor(RUNS / 2)), seed: 3 },
    );
  }
  assert.ok(reports > 0);
  void refusals;
});
