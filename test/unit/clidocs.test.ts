/**
 * The man page and completions come from the CLI's own definitions: the
 * committed files are exactly what they generate now, the page renders
 * without a warning, and bash completes what the CLI accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bashCompletion, cliModel, manPage, zshCompletion } from '../../src/clidocs.js';
import { ROOT } from '../helpers.js';

const FILES: Array<[string, () => string]> = [
  ['man/initrd-wizard.1', manPage],
  ['completions/initrd-wizard.bash', bashCompletion],
  ['completions/_initrd-wizard', zshCompletion],
];

test('the committed man page and completions are what the command definitions give now (npm run docs)', async () => {
  for (const [rel, make] of FILES) assert.equal(await readFile(path.join(ROOT, rel), 'utf8'), make(), `${rel} is stale: run npm run docs`);
});

test('man -l renders the page without a warning, with every command and option in it', () => {
  const page = path.join(ROOT, 'man/initrd-wizard.1');
  const warn = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', page], { encoding: 'utf8' });
  assert.equal(warn.stderr, '', 'groff says nothing');
  const text = execFileSync('man', ['-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '' } }).replace(/.\x08/g, '');
  const { program, commands } = cliModel();
  for (const c of commands) assert.match(text, new RegExp(`^ {3}${c.name} `, 'm'), c.name);
  for (const o of [...program.options, ...commands.flatMap((c) => c.options)]) assert.ok(text.includes(o.flags), o.flags);
  assert.match(text, /EXIT STATUS/);
});

function complete(line: string): string[] {
  const script = `source ${JSON.stringify(path.join(ROOT, 'completions/initrd-wizard.bash'))}
COMP_WORDS=(${line.split(' ').map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_initrd_wizard; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

test('bash completes commands, each command\'s options, and the allowed choices', () => {
  assert.ok(complete('initrd-wizard ').includes('fleet'));
  assert.deepEqual(complete('initrd-wizard inst'), ['install']);
  assert.deepEqual(complete('initrd-wizard install --lay'), ['--layout']);
  assert.deepEqual(complete('initrd-wizard install --layout '), ['bls', 'uki']);
  assert.deepEqual(complete('initrd-wizard build --format '), ['cpio', 'uki']);
  assert.ok(!complete('initrd-wizard revert --').includes('--layout'), 'only revert\'s own options');
});

test('bash completes each value by what it is: kernels that have modules here, directories, files, distribution ids, and nothing for free text', () => {
  const kernels = existsSync('/usr/lib/modules') ? readdirSync('/usr/lib/modules', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];
  assert.deepEqual(complete('initrd-wizard build --kernel-version '), kernels);
  assert.deepEqual(complete('initrd-wizard export --format rpm-spec --kernel-version '), kernels);
  assert.deepEqual(complete('initrd-wizard suggest --distro deb'), ['debian']);
  assert.deepEqual(complete('initrd-wizard closure --arch aa'), ['aarch64']);
  assert.deepEqual(complete('initrd-wizard closure --packages '), [], 'a package list is not a file name');
  // The same flag takes a directory in export and a file in build.
  const dir = mkdtempSync(path.join(tmpdir(), 'iw-compl-'));
  try {
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'file.tar'), '');
    assert.deepEqual(complete(`initrd-wizard export --output ${dir}/`), [`${dir}/sub`]);
    assert.deepEqual(complete(`initrd-wizard build -o ${dir}/`), [`${dir}/file.tar`, `${dir}/sub`]);
    // fleet's paths are snapshot directories or archives, and its options still come with a dash.
    assert.deepEqual(complete(`initrd-wizard fleet ${dir}/`), [`${dir}/file.tar`, `${dir}/sub`]);
    assert.deepEqual(complete(`initrd-wizard fleet ${dir} --c`), ['--csv']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
