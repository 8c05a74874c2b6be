/**
 * Text from another machine never reaches the terminal raw: an ESC in a
 * device name could retitle the terminal or hide the NOT SUPPORTED section
 * (\e[8m). Text output shows such characters as \xNN; JSON escapes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { jsonForTerminal, printable } from '../../src/text/printable.js';
import { fitLine } from '../../src/ui/view.js';
import { fixture, tempDir } from '../helpers.js';

const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

test('printable keeps tabs and newlines and shows every other control character', () => {
  assert.equal(printable('a\tb\nc'), 'a\tb\nc');
  assert.equal(printable('\x1b]0;pwned\x07'), '\\x1b]0;pwned\\x07');
  assert.equal(printable('x\x9b31mred'), 'x\\x9b31mred');
  assert.equal(printable('evil\u202egnp.exe'), 'evil\\u202egnp.exe');
  assert.equal(JSON.parse(jsonForTerminal(JSON.stringify({ a: 'x\x9by\u2028' }))).a, 'x\x9by\u2028');
  assert.doesNotMatch(jsonForTerminal(JSON.stringify({ a: 'x\x9by\u2028' })), RAW_CONTROL);
});

test('a wizard line never carries a raw escape, whatever its text', () => {
  const line = fitLine([{ t: 'sda\x1b[8m hidden \x07' }, { t: '\x9b2J' }], 80);
  assert.doesNotMatch(line.map((s) => s.t).join(''), RAW_CONTROL);
});

test('detect and suggest on a snapshot with escape sequences in names print them visibly, never raw', async () => {
  const { dir, cleanup } = await tempDir('iw-escape-');
  try {
    const snap = path.join(dir, 'snap');
    await cp(fixture('iscsi'), snap, { recursive: true });
    for (const f of ['lsblk.json', 'findmnt.json']) {
      const p = path.join(snap, f);
      // JSON's own escapes: the loaded strings hold real ESC, BEL and C1 bytes.
      await writeFile(p, (await readFile(p, 'utf8')).replaceAll('"sda"', '"sda\\u001b[8m"').replaceAll('"/boot"', '"/boot\\u001b]0;pwned\\u0007\\u009b2J"'));
    }
    for (const args of [['detect', '--snapshot', snap], ['suggest', '--snapshot', snap], ['detect', '--snapshot', snap, '--json']]) {
      const r = await run(args);
      assert.doesNotMatch(r.out, RAW_CONTROL, `${args.join(' ')} stdout`);
      assert.doesNotMatch(r.err, RAW_CONTROL, `${args.join(' ')} stderr`);
    }
    const text = await run(['detect', '--snapshot', snap]);
    assert.match(text.out, /NOT SUPPORTED/);
  } finally {
    await cleanup();
  }
});

test('an error naming untrusted input shows its escapes visibly', async () => {
  const r = await run(['suggest', '--snapshot', '/nonexistent/\x1b]0;pwned\x07']);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.err, RAW_CONTROL);
  assert.match(r.err, /\\x1b\]0;pwned\\x07/);
});
