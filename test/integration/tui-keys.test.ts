/**
 * Keys, footers and `?` say the same thing, because all three come from one
 * key map (issue 14 items 7 and 8); package bookkeeping counts only what
 * changed and never overwrites saved choices behind the user's back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { demoServices } from '../../src/ui/demo-services.js';
import { hostServices } from '../../src/ui/host-services.js';
import { confPrefs, memoryPrefs } from '../../src/ui/prefs.js';
import type { WizardServices } from '../../src/ui/services.js';
import { WizardError } from '../../src/errors.js';
import { KEY, mountWizard, toBuildScreen, toBuilt, type Mounted } from '../support/tui.js';
import { fixture } from '../helpers.js';

let work: string;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'iw-keys-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function demo(extra: Parameters<typeof demoServices>[0] = {}): Promise<WizardServices> {
  const dir = await mkdtemp(path.join(work, 'demo-'));
  return demoServices({ workDir: dir, cacheDir: path.join(work, 'cache'), prefs: memoryPrefs(), replaySpeed: 2000, ...extra });
}

const footer = (m: Mounted) => m.frame().split('\n').at(-1)!;

async function toPackages(m: Mounted) {
  await m.until('Supported');
  await m.press(KEY.enter, KEY.enter);
  await m.until(/systemd\s+mkosi 24\.3/, 10_000);
}

test('? lists every key that does something, d, c, x and ctrl-d included', async () => {
  const m = await mountWizard(await demo());
  try {
    await m.until('Supported');
    await m.press('?');
    const help = m.frame();
    assert.match(help, /space x d\s+Packages: remove or restore the selected package/);
    assert.match(help, /^\s+c\s+Build: cancel the running build/m);
    assert.match(help, /^\s+x\s+Packages: discard the saved choices, after asking/m);
    assert.match(help, /PgDn ctrl-d\s+a page up or down/);
    assert.match(footer(m), /any key closes this help/);
  } finally {
    m.unmount();
  }
});

test('ctrl-d pages down where ctrl-u pages up', async () => {
  const m = await mountWizard(await demo());
  try {
    await m.until('Supported');
    await m.resize(100, 20);
    const top = m.frame();
    await m.press(KEY.ctrlD);
    assert.notEqual(m.frame(), top, 'the host text scrolled');
    assert.ok(m.controller.state.cursor.host > 0);
    await m.press('\u0015');
    assert.equal(m.controller.state.cursor.host, 0);
  } finally {
    m.unmount();
  }
});

test('an unsupported host offers no "next" in its footer; the key still says why', async () => {
  const m = await mountWizard(hostServices({ snapshot: fixture('multipath'), root: await mkdtemp(path.join(work, 'root-')), prefs: memoryPrefs() }));
  try {
    await m.until('NOT SUPPORTED');
    assert.doesNotMatch(footer(m), /next/);
    assert.match(footer(m), /^↑↓ scroll · s save snapshot · \? help · q quit$/);
    await m.press(KEY.right);
    assert.match(m.frame(), /installing is not offered/);
  } finally {
    m.unmount();
  }
});

test('the quit dialog footer offers quitting, not applying; Installed shows q once and no r where regenerating is not offered', async () => {
  const m = await mountWizard(await demo());
  try {
    await toBuilt(m);
    await m.press(KEY.enter);
    await m.until(/y apply these changes/);
    await m.press('q');
    assert.match(footer(m), /^y\/q quit · n\/esc stay$/);
    await m.press(KEY.esc, 'y');
    await m.until('Installed');
    const f = footer(m);
    assert.equal(f.match(/q quit/g)?.length, 1, f);
    assert.doesNotMatch(f, /\br regenerate/);
    assert.match(m.frame(), /Regenerate now: not offered/);
  } finally {
    m.unmount();
  }
});

test('→ on Build before a build, or after a failed one, says what to do instead of nothing', async () => {
  const base = await demo();
  const failing: WizardServices = { ...base, build: async () => Promise.reject(new WizardError('mkosi-initrd failed: the package lvm2 is not in the configured repositories')) };
  const m = await mountWizard(failing);
  try {
    await toBuildScreen(m);
    await m.press(KEY.right);
    assert.match(m.frame(), /Nothing built yet: b builds the variant/);
    await m.press('b');
    await m.until('The build failed');
    await m.press(KEY.right);
    assert.match(m.frame(), /The build failed \(see above\): nothing to review/);
    assert.match(m.frame(), / Build /);
  } finally {
    m.unmount();
  }
});

test('adding a package already in the list changes nothing and says so; adding a removed one restores it', async () => {
  const m = await mountWizard(await demo());
  try {
    await toPackages(m);
    await m.press('/');
    for (const ch of 'btrfs-progs') await m.press(ch);
    await m.until(/> btrfs-progs\s+in the list/);
    await m.press(KEY.enter);
    assert.match(m.frame(), /btrfs-progs is already in the list \(btrfs\)/);
    assert.match(m.frame(), /you: \+0 −0/);
    assert.deepEqual(m.controller.state.choices.add, []);
  } finally {
    m.unmount();
  }
});

test('with saved choices offered, a change is not saved over them; x asks before discarding', async () => {
  const prefsDir = await mkdtemp(path.join(work, 'prefs-'));
  const first = await mountWizard(await demo({ prefs: confPrefs(prefsDir) }));
  try {
    await toPackages(first);
    await first.press('/');
    for (const ch of 'plymouth') await first.press(ch);
    await first.press(KEY.enter);
    await first.until(/\+ plymouth\s+added by you/);
  } finally {
    first.unmount();
  }
  const file = path.join(prefsDir, 'choices.json');
  const saved = await readFile(file, 'utf8');

  const second = await mountWizard(await demo({ prefs: confPrefs(prefsDir) }));
  try {
    await toPackages(second);
    assert.match(second.frame(), /Saved choices from .*: \+1 −0 packages/);
    assert.match(footer(second), /r restore saved · x discard saved/);
    // A change while the offer stands: shown, said not saved, and the file keeps the earlier choices.
    await second.press(KEY.space);
    assert.match(second.frame(), /Not saved: your earlier choices are still offered \(r restores, x discards\)/);
    assert.equal(await readFile(file, 'utf8'), saved);
    // x asks; n keeps the offer.
    await second.press('x');
    assert.match(second.frame(), /Discard the saved choices\?/);
    assert.match(footer(second), /^y discard the saved choices · n\/esc keep them$/);
    await second.press('n');
    assert.match(second.frame(), /Saved choices from/);
    assert.equal(await readFile(file, 'utf8'), saved);
    // x y discards, and what is on screen is saved from then on.
    await second.press('x', 'y');
    assert.doesNotMatch(second.frame(), /Saved choices from/);
    assert.match(second.frame(), /Discarded the saved choices/);
    const now = JSON.parse(await readFile(file, 'utf8')) as Record<string, { choices: { add: string[]; remove: string[] } }>;
    const [choices] = Object.values(now).map((v) => v.choices);
    assert.deepEqual(choices!.add, []);
    assert.equal(choices!.remove.length, 1);
  } finally {
    second.unmount();
  }
});
