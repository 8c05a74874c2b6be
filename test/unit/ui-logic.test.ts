import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyName, keyNames } from '../../src/ui/keys.js';
import { commandFor, type KeyContext } from '../../src/ui/keymap.js';
import { clamp, fit, moveCursor, windowStart } from '../../src/ui/window.js';
import { addPackage, NameSearch, toggleProfile, togglePackage } from '../../src/ui/derive.js';
import { fitLine, lineText } from '../../src/ui/view.js';
import { NO_CHOICES } from '../../src/ui/services.js';
import { hasUnapplied, initialState, reducer } from '../../src/ui/state.js';

test('keys: arrows and vi keys move the same way; bursts split into single keys', () => {
  assert.equal(keyName('', { downArrow: true }), 'down');
  const onList: KeyContext = { screen: 'packages', unsupported: false, savedOffered: false, build: 'idle', review: 'none', canRegenerate: false };
  assert.equal(commandFor(keyName('j', {})!, onList), 'down');
  assert.equal(commandFor(keyName('k', {})!, onList), 'up');
  assert.equal(commandFor(keyName('G', {})!, onList), 'end');
  assert.equal(commandFor(keyName('d', { ctrl: true })!, onList), 'pagedown');
  assert.equal(commandFor(keyName('u', { ctrl: true })!, onList), 'pageup');
  assert.equal(keyName('c', { ctrl: true }), 'ctrl-c');
  assert.equal(keyName('', { return: true }), 'enter');
  assert.deepEqual(keyNames('/lvm', {}), ['char:/', 'char:l', 'char:v', 'char:m']);
  assert.deepEqual(keyNames('x y', {}), ['char:x', 'space', 'char:y']);
  assert.deepEqual(keyNames('ab', { ctrl: true }), []);
});

test('windowing: the cursor stays visible and the window never runs past the list', () => {
  assert.equal(windowStart(0, 64_000, 20), 0);
  assert.equal(windowStart(63_999, 64_000, 20), 63_980);
  assert.equal(windowStart(500, 64_000, 20), 490);
  assert.equal(windowStart(5, 10, 20), 0);
  assert.equal(moveCursor(0, 'up', 10, 5), 0);
  assert.equal(moveCursor(9, 'down', 10, 5), 9);
  assert.equal(moveCursor(0, 'pagedown', 10, 5), 4);
  assert.equal(moveCursor(3, 'end', 10, 5), 9);
  assert.equal(moveCursor(3, 'home', 10, 5), 0);
  assert.equal(clamp(12, 10), 9);
  assert.equal(clamp(3, 0), 0);
});

test('lines are cut to the width, tabs expanded, so a frame never wraps', () => {
  assert.equal(fit('abcdef', 4), 'abc…');
  const l = fitLine([{ t: 'a\tb' }, { t: 'cdefghij' }], 8);
  assert.equal(lineText(l), 'a    bc…');
  assert.equal(lineText(l).length, 8);
});

test('choices: toggling a profile package removes and restores it; an addition is dropped', () => {
  let c = togglePackage(NO_CHOICES, { name: 'lvm2', origin: 'lvm', removed: false });
  assert.deepEqual(c.remove, ['lvm2']);
  c = togglePackage(c, { name: 'lvm2', origin: 'lvm', removed: true });
  assert.deepEqual(c.remove, []);
  c = addPackage(c, 'plymouth');
  assert.deepEqual(c.add, ['plymouth']);
  assert.equal(addPackage(c, 'plymouth'), c);
  c = togglePackage(c, { name: 'plymouth', origin: 'you', removed: false });
  assert.deepEqual(c.add, []);
  // Adding a package the user removed restores it instead of listing it twice.
  assert.deepEqual(addPackage({ ...NO_CHOICES, remove: ['kmod'] }, 'kmod'), NO_CHOICES);
});

test('choices: a detected profile is dropped, an added one un-added, base stays', () => {
  const row = (name: string, selected: boolean) => ({ name, summary: '', selected, detected: selected, reason: '', packages: 1 });
  assert.deepEqual(toggleProfile(NO_CHOICES, row('luks', true)).dropProfiles, ['luks']);
  assert.deepEqual(toggleProfile({ ...NO_CHOICES, dropProfiles: ['luks'] }, row('luks', false)).dropProfiles, []);
  assert.deepEqual(toggleProfile(NO_CHOICES, row('nfs', false)).addProfiles, ['nfs']);
  assert.deepEqual(toggleProfile({ ...NO_CHOICES, addProfiles: ['nfs'] }, row('nfs', true)), NO_CHOICES);
  assert.equal(toggleProfile(NO_CHOICES, row('base', true)), NO_CHOICES);
});

test('fuzzy search: exact names first, a typo still finds the package, nonsense finds nothing', () => {
  const s = new NameSearch(['cryptsetup', 'cryptsetup-bin', 'libcryptsetup12', 'lvm2', 'mdadm', 'plymouth', 'zstd', 'cryptmount']);
  assert.equal(s.search('cryptsetup')[0], 'cryptsetup');
  assert.ok(s.search('crypsetup').includes('cryptsetup'), 'one letter missing');
  assert.equal(s.search('lvm')[0], 'lvm2');
  assert.deepEqual(s.search('qqqqqq'), []);
  assert.deepEqual(s.search('  '), []);
});

test('state: a build or a reviewed plan not installed counts as unapplied; installing clears it', () => {
  let s = initialState();
  assert.equal(hasUnapplied(s), false);
  s = reducer(s, { type: 'build-start', variantKey: 'k', at: 0, reproducible: false });
  s = reducer(s, { type: 'build-lines', lines: Array.from({ length: 500 }, (_, i) => `l${i}`) });
  assert.equal(s.build.log.length, 200, 'the log tail is bounded');
  assert.equal(s.build.log.at(-1), 'l499');
  s = reducer(s, { type: 'build-end', cancelled: true });
  assert.equal(s.build.status, 'cancelled');
  assert.equal(hasUnapplied(s), false);
  s = reducer(s, { type: 'build-start', variantKey: 'k', at: 0, reproducible: false });
  s = reducer(s, { type: 'build-end', result: { ok: true } as never });
  assert.equal(hasUnapplied(s), true);
  s = reducer(s, { type: 'install', status: 'done' });
  assert.equal(hasUnapplied(s), false);
});

test('profile rows keep their order when a profile is toggled, so the cursor stays on it', async () => {
  const { analyze } = await import('../../src/host/analyze.js');
  const { loadSnapshot } = await import('../../src/host/snapshot.js');
  const { loadProfiles } = await import('../../src/variant/profiles.js');
  const { deriveVariant, profileRows } = await import('../../src/ui/derive.js');
  const { fixture } = await import('../helpers.js');
  const report = analyze(await loadSnapshot(fixture('btrfs-luks-tpm2-hibernate')));
  const host = { report, distro: { id: 'debian', version: '12', family: 'debian' as const }, kernelVersion: '6.1', profiles: await loadProfiles(), source: 't', prefsKey: 'k' };
  const detected = deriveVariant(host, NO_CHOICES).variant;
  const before = profileRows(host, detected, detected).map((r) => r.name);
  const toggled = deriveVariant(host, { ...NO_CHOICES, addProfiles: ['nfs'] }).variant;
  const rows = profileRows(host, toggled, detected);
  assert.deepEqual(rows.map((r) => r.name), before);
  assert.equal(rows.find((r) => r.name === 'nfs')!.selected, true);
  assert.equal(rows.find((r) => r.name === 'network')!.reason, 'required by nfs');
  assert.deepEqual(before.slice(0, 5), ['base', 'btrfs', 'hibernate', 'luks', 'tpm2']);
});

test('long warnings and advice wrap at word boundaries instead of being cut', async () => {
  const { wrapWords } = await import('../../src/text/wrap.js');
  const text = 'crypttab luks-root: the initrd needs this device but the line has no x-initrd.attach, so mkosi-initrd will not copy it';
  const lines = wrapWords(text, 40);
  assert.ok(lines.length > 2);
  for (const l of lines) assert.ok(l.length <= 40, l);
  assert.equal(lines.join(' '), text);
});

test('paint: one escape sequence per run of equal style, plain text without colour', async () => {
  const { paint } = await import('../../src/ui/App.js');
  const line = [{ t: 'a', tone: 'dim' as const }, { t: 'b', tone: 'dim' as const }, { t: 'c' }, { t: 'd', tone: 'bad' as const, bold: true }];
  assert.equal(paint(line, true), '\x1b[90mab\x1b[0mc\x1b[31;1md\x1b[0m');
  assert.equal(paint(line, false), 'abcd');
});

test('the Build screen shows the service\'s build as it is, and the comparison of two when asked', async () => {
  const { buildOutcome } = await import('../../src/ui/host-services.js');
  const uki = { generator: 'ukify', why: 'w', cmdline: 'root=/dev/vda2', cmdlineSource: '/proc/cmdline', cmdlineFromSnapshot: false, stub: '/s', config: null, microcode: null, arch: 'x86_64', uname: null, osRelease: null, sections: [{ name: '.linux', size: 1 }] };
  const doc = { format: 'uki', kernelVersion: 'k', output: '/x.efi', log: '/x.log', durationMs: 1000, slim: false, profiles: [], preflight: [], image: {}, uki, current: null, checks: [], ok: true, mkosiVersion: '27', modules: 'live', packages: null, notes: [], warnings: [] };
  const run = { doc, verified: {}, fromSnapshot: false, ukify: '/usr/bin/ukify' } as unknown as Parameters<typeof buildOutcome>[0];
  const plain = buildOutcome(run, 'uki', null);
  assert.equal(plain.reproducible, null);
  assert.deepEqual(plain.uki, { generator: 'ukify', cmdline: 'root=/dev/vda2', cmdlineSource: '/proc/cmdline', sections: [{ name: '.linux', size: 1 }] });
  assert.equal(plain.output, '/x.efi');
  const diff = { member: 'etc/ld.so.cache', fields: ['content'], cause: 'ldconfig cache' };
  const twice = buildOutcome(run, 'uki', { identical: false, differences: [diff], extraMs: 4000 });
  assert.deepEqual(twice.reproducible, { identical: false, differences: [diff], extraMs: 4000 });
});

test('Host on an unsupported capture: no "plain disk", and each finding names its device once', async () => {
  const { hostLines } = await import('../../src/ui/view.js');
  const { analyze } = await import('../../src/host/analyze.js');
  const { loadSnapshot } = await import('../../src/host/snapshot.js');
  const { fixture } = await import('../helpers.js');
  for (const name of ['multipath', 'bcache', 'plain-dm-crypt', 'iscsi']) {
    const text = hostLines(analyze(await loadSnapshot(fixture(name))), 200).map((l) => l.map((s) => s.t).join('')).join('\n');
    assert.doesNotMatch(text, /a plain disk/, name);
    assert.match(text, /No storage feature a package-built initrd handles was detected \(see NOT SUPPORTED below\)/, name);
    assert.doesNotMatch(text, /\] (\S+): \1:/, `${name}: a device name doubled`);
    assert.match(text, /NOT SUPPORTED/, name);
  }
  // A plain disk is still called one.
  const plain = hostLines(analyze(await loadSnapshot(fixture('plain-swap-resume'))), 200).map((l) => l.map((s) => s.t).join('')).join('\n');
  assert.doesNotMatch(plain, /NOT SUPPORTED/);
});
