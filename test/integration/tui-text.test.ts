/**
 * Nothing the wizard says is cut off without a way to read it (issue 14 item
 * 9): long notes, why-chains and errors wrap; the verdict is at the top and a
 * screen with more below says so; long package names keep their ends.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { demoServices } from '../../src/ui/demo-services.js';
import { hostServices } from '../../src/ui/host-services.js';
import { memoryPrefs } from '../../src/ui/prefs.js';
import type { WizardServices } from '../../src/ui/services.js';
import { WizardError } from '../../src/errors.js';
import { lineText, packageLines, wrapLine } from '../../src/ui/view.js';
import { column } from '../../src/ui/window.js';
import { initialState } from '../../src/ui/state.js';
import { mountWizard, toBuildScreen } from '../support/tui.js';
import { fixture } from '../helpers.js';

let work: string;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'iw-text-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const words = (s: string) => s.split(/\s+/).filter(Boolean);

test('wrapLine keeps every word, in order, within the width, with no ellipsis', () => {
  const text = 'note: ' + Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
  const lines = wrapLine([{ t: text, tone: 'warn' }], 50, 6).map(lineText);
  assert.ok(lines.length > 5);
  for (const l of lines) assert.ok(l.length <= 50, `${l.length}: ${l}`);
  assert.deepEqual(words(lines.join(' ')), words(text));
  assert.doesNotMatch(lines.join('\n'), /…/);
  assert.ok(lines.slice(1).every((l) => l.startsWith('      ')), 'continuations are indented');
});

test('a long build error is shown whole at 120 columns, its next step included', async () => {
  const dir = await mkdtemp(path.join(work, 'demo-'));
  const base = await demoServices({ workDir: dir, cacheDir: path.join(work, 'cache'), prefs: memoryPrefs(), replaySpeed: 2000 });
  const message = `mkosi-initrd failed: ${Array.from({ length: 40 }, (_, i) => `package-${i}`).join(' ')} are not in the configured repositories END-OF-MESSAGE`;
  const failing: WizardServices = { ...base, build: async () => Promise.reject(new WizardError(message, { hint: 'run apt-get update, then build again: THE-LAST-WORDS' })) };
  const m = await mountWizard(failing);
  try {
    await m.resize(120, 40);
    await toBuildScreen(m);
    await m.press('b');
    const f = await m.until('The build failed');
    assert.match(f, /END-OF-MESSAGE/);
    assert.match(f, /THE-LAST-WORDS/);
    for (const i of [0, 20, 39]) assert.match(f, new RegExp(`package-${i}\\b`));
  } finally {
    m.unmount();
  }
});

test('at 80x24 an unsupported host says NOT SUPPORTED at the top and that more is below', async () => {
  const m = await mountWizard(hostServices({ snapshot: fixture('multipath'), root: await mkdtemp(path.join(work, 'root-')), prefs: memoryPrefs() }));
  try {
    await m.resize(80, 24);
    const f = await m.until('NOT SUPPORTED');
    const body = f.split('\n').slice(3, 8).join('\n');
    assert.match(body, /NOT SUPPORTED by a package-built initrd \(multipath\): why and what to do below/);
    assert.match(f, /↓ \d+ more lines below: ↓, PgDn or ctrl-d scrolls/);
    await m.press('G');
    assert.doesNotMatch(m.frame(), /more lines? below/);
  } finally {
    m.unmount();
  }
});

test('a long package name keeps its start and end, and search shows the selected one whole', () => {
  const long = 'texlive-collection-fontsrecommended-doc-extra-long-name';
  assert.equal(column(long, 34).length, 34);
  assert.equal(column(long, 34), 'texlive-collecti…-extra-long-name ');
  const s = initialState();
  const state = { ...s, search: { open: true, query: 'tex', cursor: 0 } };
  const lines = packageLines(state, [], [long, 'short'], true, 1, 20, 80).map(lineText);
  assert.ok(lines.some((l) => l === `selected: ${long}`), lines.join('\n'));
  const row = lines.find((l) => l.startsWith('> texlive'))!;
  assert.match(row, /^> texlive-collecti…-extra-long-name +⏎ adds/);
});
