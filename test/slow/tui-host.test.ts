/**
 * The wizard in host mode with the real tools: facts from a captured
 * snapshot, package metadata from this machine's apt, a real mkosi-initrd
 * build of the tweaked variant (cancelled once: nothing may be left behind),
 * real planning against the detected mkosi, and the install applied into a
 * temporary root.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hostServices } from '../../src/ui/host-services.js';
import { memoryPrefs } from '../../src/ui/prefs.js';
import { makeRoot } from '../support/roots.js';
import { KEY, mountWizard } from '../support/tui.js';
import { fixture, isRoot } from '../helpers.js';

const kver = existsSync('/usr/lib/modules') ? readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/vmlinuz`)) : undefined;
const mkosiOk = existsSync('/usr/bin/mkosi');
const skip = !isRoot ? 'needs root' : !kver ? 'no kernel with vmlinuz in /usr/lib/modules (test/mkosi/setup-host.sh)' : !mkosiOk ? 'mkosi missing' : false;
const tmp: string[] = [];
after(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

const buildDirs = () => (existsSync('/var/tmp') ? readdirSync('/var/tmp').filter((d) => d.startsWith('initrd-wizard-build-')) : []);

test('host mode: a real build of the tweaked variant (cancel leaves nothing), review against the real mkosi, install into a root', { skip, timeout: 1_200_000 }, async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'iw-tui-host-'));
  tmp.push(work);
  const root = path.join(work, 'root');
  await makeRoot(root, 'commented-install-conf');
  const services = hostServices({ snapshot: fixture('btrfs-luks-tpm2-hibernate'), root, kernelVersion: kver, imageDir: path.join(work, 'images'), prefs: memoryPrefs() });
  const before = buildDirs();
  const m = await mountWizard(services);
  try {
    await m.until('Supported', 30_000);
    await m.press(KEY.enter, KEY.enter);
    // A tweak the build must carry: add lvm2 (apt knows it on this machine).
    await m.press('/');
    await m.until(/search: .*(type a name|matches)/, 120_000);
    for (const ch of 'lvm2') await m.press(ch);
    await m.until(/> lvm2\s/, 30_000);
    await m.press(KEY.enter);
    await m.press(KEY.enter);
    await m.until(/Closure: \d+ packages/, 120_000);
    await m.press(KEY.enter);

    // Start, wait for mkosi to be under way, cancel.
    await m.send('b');
    await m.until(/log \(last \d+ of \d+ lines\)/, 120_000);
    await m.send(KEY.ctrlC);
    await m.controller.buildSettled();
    await m.settle();
    assert.match(m.frame(), /Build cancelled/);
    assert.deepEqual(buildDirs().filter((d) => !before.includes(d)), [], 'no build directory left in /var/tmp');

    await m.send('b');
    const done = await m.until(/Built and verified|checks FAILED|The build failed/, 900_000);
    assert.match(done, /✓ Built and verified/, done);
    assert.match(done, /✓ luks-dm-crypt/);
    assert.match(done, /✓ resume-generator/);
    assert.doesNotMatch(done, /demo:/);

    await m.press(KEY.enter);
    const review = await m.until(/Review: \d+ file\(s\) change under/, 60_000);
    assert.match(review, /initrd_generator=mkosi-initrd/);
    await m.press('y');
    await m.until('Installed:', 60_000);
    assert.match(m.frame(), /Regenerate now: not offered — the facts come from a snapshot/);
  } finally {
    m.unmount();
  }
  const conf = await readFile(path.join(root, 'etc/kernel/install.conf'), 'utf8');
  assert.match(conf, /^initrd_generator=mkosi-initrd$/m);
  assert.match(conf, /^# Local kernel-install settings$/m, 'other lines kept');
  const dropIn = await readFile(path.join(root, 'etc/mkosi-initrd/mkosi.conf.d/50-initrd-wizard.conf'), 'utf8');
  assert.match(dropIn, /^ +lvm2$/m, 'the tweak is installed');
});
