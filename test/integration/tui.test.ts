/**
 * The wizard screen by screen, in demo mode (bundled snapshot, bundled
 * repository, replayed build, temporary root) and against other snapshots,
 * through ink-testing-library with act(): frames are asserted as the user
 * would read them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { demoServices } from '../../src/ui/demo-services.js';
import { hostServices } from '../../src/ui/host-services.js';
import { confPrefs, memoryPrefs } from '../../src/ui/prefs.js';
import { CommandFailedError } from '../../src/system/run.js';
import type { WizardServices } from '../../src/ui/services.js';
import { KEY, mountWizard, toBuilt } from '../support/tui.js';
import { fixture, runCli } from '../helpers.js';

let work: string;
let cacheDir: string;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'iw-tui-'));
  cacheDir = path.join(work, 'cache');
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function demo(extra: Parameters<typeof demoServices>[0] = {}) {
  const dir = await mkdtemp(path.join(work, 'demo-'));
  return demoServices({ workDir: dir, cacheDir, prefs: memoryPrefs(), replaySpeed: 2000, ...extra });
}

function assertFits(frame: string, cols: number, rows: number) {
  const lines = frame.split('\n');
  assert.ok(lines.length <= rows - 1, `frame has ${lines.length} lines for ${rows} rows`);
  for (const l of lines) assert.ok(l.length <= cols, `line wider than ${cols}: ${l}`);
}

test('Host: the storage tree from each mount down to the disk, the features with reasons, and a snapshot on s', async () => {
  const s = await demo();
  const m = await mountWizard(s);
  try {
    const f = await m.until('Storage the initrd must bring up');
    assert.match(f, / Host /);
    assert.match(f, /\/ {2}btrfs subvolume \/@/);
    assert.match(f, /└─ luks-c4a7e2f1-0001\S*\s+crypt\s+LUKS2 \(tokens: systemd-tpm2\)/);
    assert.match(f, /└─ vda2\s+part/);
    assert.match(f, /└─ vda\s+disk/);
    assert.match(f, /resume \(hibernation\)\s+swap/);
    for (const feature of ['luks', 'btrfs', 'hibernate', 'tpm2']) assert.match(f, new RegExp(`^\\s+${feature}\\s+\\S`, 'm'));
    assert.match(f, /Supported: mkosi-initrd can build an initrd for this host/);
    assert.match(f, /s save snapshot · ⏎\/→ next · \? help · q quit/);
    assertFits(f, 100, 30);

    await m.press('s');
    const saved = /Snapshot saved to (\S+) /.exec(await m.until('Snapshot saved to'))![1]!;
    assert.ok((await stat(path.join(saved, 'snapshot.json'))).isFile());

    await m.press('?');
    assert.match(m.frame(), /Keys[\s\S]*ctrl-c\s+cancel a running build/);
    await m.press('x');
    assert.doesNotMatch(m.frame(), /^Keys/m);
  } finally {
    m.unmount();
  }
});

test('Host: an unsupported setup is explained, a snapshot offered, and the wizard goes no further', async () => {
  const root = await mkdtemp(path.join(work, 'root-'));
  const m = await mountWizard(hostServices({ snapshot: fixture('multipath'), root, prefs: memoryPrefs() }));
  try {
    const f = await m.until('NOT SUPPORTED');
    assert.match(f, /\[multipath\]/);
    assert.match(f, /→ Keep initramfs-tools as the initrd generator/);
    assert.match(f, /Press s to save a snapshot/);
    await m.press(KEY.enter);
    assert.match(m.frame(), / Host /);
    assert.match(m.frame(), /installing is not offered/);
    await m.press(KEY.right, 'l');
    assert.match(m.frame(), / Host /, 'still on Host');
  } finally {
    m.unmount();
  }
});

test('Variant: the suggested profiles with why, live counts when a profile is toggled', async () => {
  const m = await mountWizard(await demo());
  try {
    await m.until('Supported');
    await m.press(KEY.enter);
    let f = m.frame();
    // mkosi-initrd's own lists bring the base packages (and the TPM2 libraries): the profiles add what the storage needs.
    assert.match(f, /Variant: 5 profiles · 1 package beyond mkosi-initrd's own/);
    assert.match(f, /\[x\] tpm2\s+0\s+luks-c4a7e2f1-0001\S*: LUKS2 token systemd-tpm2/);
    assert.match(f, /\[ \] nfs/);
    // Turn on nfs: one more profile and its package.
    const rows = f.split('\n').filter((l) => /\[[x ]\] /.test(l));
    const nfs = rows.findIndex((l) => l.includes('] nfs'));
    for (let i = 0; i < nfs; i++) await m.press('j');
    await m.press(KEY.space);
    f = m.frame();
    assert.match(f, /Variant: 7 profiles · 3 packages beyond mkosi-initrd's own/);
    assert.match(f, /\[x\] nfs\s+1\s+chosen by you/);
    assert.match(f, /\[x\] network\s+1\s+required by nfs/);
    // luks cannot go while tpm2 needs it.
    const luks = rows.findIndex((l) => l.includes('] luks'));
    for (let i = 0; i < nfs - luks; i++) await m.press('k');
    await m.press(KEY.space);
    assert.match(m.frame(), /tpm2 needs luks: turn it off first/);
    assert.match(m.frame(), /\[x\] luks/);
  } finally {
    m.unmount();
  }
});

test('Packages: fuzzy search over every repository name adds a package; choices are saved per host and offered next time', async () => {
  const prefsDir = await mkdtemp(path.join(work, 'prefs-'));
  const first = await mountWizard(await demo({ prefs: confPrefs(prefsDir) }));
  try {
    await first.until('Supported');
    await first.press(KEY.enter, KEY.enter);
    assert.match(first.frame(), /Packages: \d+ requested/);
    assert.match(first.frame(), /btrfs-progs\s+btrfs\n/, 'the profiles\' packages first');
    await first.until(/systemd\s+mkosi 24\.3/, 10_000);
    await first.press('/');
    await first.until('type a name');
    for (const ch of 'plymuth') await first.press(ch);
    const f = first.frame();
    assert.match(f, /search: plymuth/);
    assert.match(f, /> plymouth\s+⏎ adds/, 'a typo still ranks plymouth first');
    await first.press(KEY.enter);
    assert.match(first.frame(), /> \+ plymouth\s+added by you/);
    assert.match(first.frame(), /you: \+1 −0/);
    // Remove one of mkosi's own packages: nothing needs less, so the build removes it after installation.
    await first.press('g');
    while (!/> {3}less\s/.test(first.frame())) await first.press(KEY.down);
    await first.press(KEY.space);
    await first.until(/> − less\s+mkosi 24\.3: removed after installation \(RemovePackages=\)/, 20_000);
  } finally {
    first.unmount();
  }
  const saved = JSON.parse(await readFile(path.join(prefsDir, 'choices.json'), 'utf8'));
  assert.deepEqual(Object.values(saved).map((v) => (v as { choices: unknown }).choices), [{ addProfiles: [], dropProfiles: [], add: ['plymouth'], remove: ['less'] }]);

  const second = await mountWizard(await demo({ prefs: confPrefs(prefsDir) }));
  try {
    await second.until('Supported');
    await second.press(KEY.enter, KEY.enter);
    assert.match(second.frame(), /Saved choices from .*: \+1 −1 packages, \+0 −0 profiles\. r restore · x discard/);
    assert.match(second.frame(), /you: \+0 −0/, 'offered, not applied behind the user\'s back');
    await second.press('r');
    assert.match(second.frame(), /you: \+1 −1/);
    await second.until(/− less\s+mkosi 24\.3: removed after installation/, 20_000);
    await second.press('G');
    assert.match(second.frame(), /> \+ plymouth\s+added by you/);
  } finally {
    second.unmount();
  }
});

test('Closure: sorted by size with why, a bar of the biggest, why-chain and drops for the selection, re-resolved after a toggle', async () => {
  const m = await mountWizard(await demo());
  try {
    await m.until('Supported');
    await m.press(KEY.enter, KEY.enter, KEY.enter);
    let f = await m.until(/Closure: \d+ packages/);
    const count = Number(/Closure: (\d+) packages/.exec(f)![1]);
    assert.ok(count > 50, `a real closure: ${count}`);
    const sizes = [...f.matchAll(/^[> ] (\S+)\s+([\d.]+) (KiB|MiB|B)\s/gm)].map((x) => Number(x[2]) * (x[3] === 'MiB' ? 1024 : x[3] === 'KiB' ? 1 : 1 / 1024));
    assert.ok(sizes.length >= 10);
    for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i - 1]! >= sizes[i]! - 0.1, 'biggest first');
    assert.match(f, /■ libc6 [\d.]+ MiB/);
    // What mkosi itself installs is labelled so: the bootstrap set first (coreutils is the biggest), mkosi's own list.
    assert.match(f, /> coreutils\s+[\d.]+ MiB\s+\S+\s+bootstrap set/);
    assert.match(f, /udev\s+[\d.]+ MiB\s+\S+\s+mkosi built-in/);
    assert.match(f, /why coreutils: coreutils/);
    // Walk to a requested package and drop it: the closure shrinks at once.
    const requested = /^[> ] (btrfs-progs)\s/m.exec(f);
    assert.ok(requested, 'btrfs-progs visible');
    while (!/> btrfs-progs/.test(m.frame())) await m.press(KEY.down);
    f = m.frame();
    // The prediction is the preview resolved again without it: the count after the removal is exactly that.
    const predicted = /without it: (?:(\d+) more package\(s\) drop out|nothing else drops out)(?:; (\d+) come\(s\) in)?/.exec(f);
    assert.ok(predicted, f);
    await m.press(KEY.space);
    f = m.frame();
    const after = Number(/Closure: (\d+) packages/.exec(f)![1]);
    assert.equal(after, count - 1 - Number(predicted[1] ?? 0) + Number(predicted[2] ?? 0));
    assert.match(f, /Asked to remove btrfs-progs: re-resolved/);
    // coreutils is Essential: asking changes nothing in the image, and the Packages screen says why.
    await m.press('g', KEY.space);
    assert.match(m.frame(), /Asked to remove coreutils/);
    assert.equal(Number(/Closure: (\d+) packages/.exec(m.frame())![1]), after, 'a refused removal removes nothing');
    await m.press(KEY.left);
    await m.until(/− coreutils\s+cannot remove: coreutils is Essential/);
  } finally {
    m.unmount();
  }
});

test('Build: progress with stage, elapsed time and log tail; ctrl-c cancels; a finished build lists every check', async () => {
  const m = await mountWizard(await demo({ replaySpeed: 1 }));
  try {
    await m.until('Supported');
    await m.press(KEY.enter, KEY.enter, KEY.enter);
    await m.until(/Closure: \d+/);
    await m.press(KEY.enter);
    assert.match(m.frame(), /Press b \(or ⏎\) to build/);
    await m.send('b');
    const running = await m.until(/log \(last \d+ of \d+ lines\)/, 20_000);
    assert.match(running, /\d+s elapsed {2}ctrl-c cancels/);
    // While it runs, keys are sent without waiting for the build.
    await m.send('q');
    await m.wait(20);
    assert.match(m.frame(), /Quit\?[\s\S]*A build is running: quitting cancels it/, 'q during a build asks first');
    await m.send('n');
    await m.send(KEY.ctrlC);
    await m.settle();
    assert.match(m.frame(), /Build cancelled: mkosi-initrd was stopped and its temporary files removed/);
    assert.equal(m.controller.state.quitting, false, 'ctrl-c during a build cancels the build, not the wizard');
  } finally {
    m.unmount();
  }
  const fast = await mountWizard(await demo());
  try {
    const f = await toBuilt(fast);
    assert.match(f, /image: +38\.\d MiB compressed/);
    assert.match(f, /demo: replay of a real mkosi-initrd/);
    for (const check of ['fs-btrfs', 'luks-dm-crypt', 'tpm2-modules', 'resume-generator']) assert.match(f, new RegExp(`✓ ${check}`));
  } finally {
    fast.unmount();
  }
});

test('Build: u switches to a UKI only where one can be built, and the result shows its sections; r compares two builds', async () => {
  // The demo replays one recorded cpio build: the switch is refused with the reason, and nothing else changes.
  const m = await mountWizard(await demo());
  try {
    await m.until('Supported');
    await m.press(KEY.enter, KEY.enter, KEY.enter);
    await m.until(/Closure: \d+/);
    await m.press(KEY.enter);
    assert.match(m.frame(), /format: +cpio initrd/);
    await m.press('u');
    await m.settle();
    assert.match(m.frame(), /No UKI here: the demo replays one recorded cpio build; run the wizard as root on a host with ukify/);
    assert.equal(m.controller.state.build.format, 'cpio');
    await m.press('r');
    assert.match(m.frame(), /No reproducibility check here: the demo replays one recorded build/);
    assert.equal(m.controller.state.build.status, 'idle');
  } finally {
    m.unmount();
  }
  // Where a UKI can be built, the request carries the format and the result its sections; a format change makes the build stale.
  const base = await demo();
  const requests: unknown[] = [];
  const services: WizardServices = {
    ...base,
    ukiUnavailable: async () => null,
    reproducibleUnavailable: undefined,
    plan: async (v, h, format) => {
      requests.push({ plan: format });
      return base.plan(v, h, format);
    },
    async build(v, h, p, signal, request) {
      requests.push(request);
      const r = await base.build(v, h, p, signal, request);
      return {
        ...r,
        format: request.format,
        uki: request.format === 'uki' ? { generator: 'ukify', cmdline: 'root=UUID=x rw', cmdlineSource: '/proc/cmdline', sections: [{ name: '.linux', size: 9 << 20 }, { name: '.initrd', size: 38 << 20 }] } : null,
        reproducible: request.reproducible ? { identical: false, differences: [{ member: 'etc/ld.so.cache', fields: ['content'], cause: 'ldconfig cache' }], extraMs: 4000 } : null,
      };
    },
  };
  const u = await mountWizard(services);
  try {
    await u.until('Supported');
    await u.press(KEY.enter, KEY.enter, KEY.enter);
    await u.until(/Closure: \d+/);
    await u.press(KEY.enter, 'u');
    await u.settle();
    assert.match(u.frame(), /format: +UKI/);
    await u.press('b');
    const f = await u.until('Built and verified');
    assert.deepEqual(requests.at(-1), { format: 'uki', reproducible: false });
    assert.match(f, /UKI: +\.linux 9\.0 MiB · \.initrd 38\.0 MiB/);
    assert.match(f, /cmdline: root=UUID=x rw +from \/proc\/cmdline/);
    // Review plans for the format built: layout=uki.
    await u.press(KEY.enter);
    await u.until(/Review: /);
    assert.deepEqual(requests.at(-1), { plan: 'uki' });
    await u.press(KEY.esc);
    await u.press('u');
    await u.settle();
    assert.match(u.frame(), /your choices or the format changed since/, 'the cpio format makes the UKI build stale');
    await u.press('r');
    const r = await u.until(/member\(s\) differ/);
    assert.deepEqual(requests.at(-1), { format: 'cpio', reproducible: true });
    assert.match(r, /etc\/ld\.so\.cache content: ldconfig cache/);
  } finally {
    u.unmount();
  }
});

test('demo flow: Host → Variant → Packages → Closure → Build → Review → Installed, into a temporary root', async () => {
  const s = await demo();
  const m = await mountWizard(s);
  try {
    await m.until('Supported');
    await m.press(KEY.enter);
    assert.match(m.frame(), / Variant /);
    await m.press(KEY.enter);
    assert.match(m.frame(), / Packages /);
    await m.press('a');
    await m.until('type a name');
    for (const ch of 'mdadm') await m.press(ch);
    await m.press(KEY.enter);
    assert.match(m.frame(), /\+ mdadm\s+added by you/);
    await m.press(KEY.enter);
    await m.until(/Closure: \d+ packages/);
    assert.match(m.frame(), / Closure /);
    await m.press(KEY.enter);
    assert.match(m.frame(), / Build /);
    await m.press(KEY.enter);
    await m.until('Built and verified');
    await m.press(KEY.enter);
    let f = await m.until(/Review: \d+ file\(s\) change under/);
    assert.match(f, /✎ \/etc\/kernel\/install\.conf/);
    assert.match(f, /↪ \/etc\/kernel\/install\.d\/50-dracut\.install/);
    assert.match(f, /\+initrd_generator=mkosi-initrd/);
    assert.match(f, /y apply \(journalled, revertible\)/);
    await m.press(KEY.enter);
    assert.match(m.frame(), /Press y to apply/);
    await m.press('y');
    f = await m.until('Installed:');
    assert.match(f, new RegExp(`Undo everything: initrd-wizard revert --root ${s.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(f, /Regenerate now: not offered — the demo root has no kernel/);

    const conf = await readFile(path.join(s.root, 'etc/kernel/install.conf'), 'utf8');
    assert.equal(conf, 'layout=bls\ninitrd_generator=mkosi-initrd\n');
    const dropIn = await readFile(path.join(s.root, 'etc/mkosi-initrd/mkosi.conf.d/50-initrd-wizard.conf'), 'utf8');
    assert.match(dropIn, /^ +mdadm$/m, 'the user\'s addition is in the drop-in');
    assert.match(dropIn, /^Packages=btrfs-progs$/m);
    assert.equal(await readlink(path.join(s.root, 'etc/kernel/install.d/50-dracut.install')), '/dev/null');
    assert.ok((await lstat(path.join(s.root, 'etc/kernel/install.d/50-mkosi-initrd.install'))).mode & 0o100);

    await m.press('q');
    assert.equal(m.controller.state.quitting, true, 'nothing unapplied: q quits at once');
  } finally {
    m.unmount();
  }
  // The revert command the screen printed really undoes it.
  const r = await runCli(['revert', '--root', s.root]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(path.join(s.root, 'etc/kernel/install.conf'), 'utf8'), 'layout=bls\n');
});

test('errors from a stage show the failing command, its stderr and the next step; the wizard keeps running', async () => {
  const base = await demo();
  const failing: WizardServices = {
    ...base,
    plan: async () => {
      throw new CommandFailedError(['mkosi', '--version'], 1, 'Traceback (most recent call last):\nModuleNotFoundError: No module named mkosi\n', '');
    },
  };
  const m = await mountWizard(failing);
  try {
    await toBuilt(m);
    await m.press(KEY.enter);
    const f = await m.until('The install could not be planned');
    assert.match(f, /command: mkosi --version/);
    assert.match(f, /│ ModuleNotFoundError: No module named mkosi/);
    assert.doesNotMatch(f, /at .*\.ts:\d+/, 'no stack trace');
    await m.press(KEY.esc);
    assert.match(m.frame(), / Build /, 'back works after an error');
  } finally {
    m.unmount();
  }
});

test('q asks before quitting with a build not installed; y quits, n stays', async () => {
  const m = await mountWizard(await demo());
  try {
    await toBuilt(m);
    await m.press('q');
    assert.match(m.frame(), /Quit\?[\s\S]*The build is done but nothing was installed/);
    await m.press('n');
    assert.equal(m.controller.state.quitting, false);
    await m.press('q', 'y');
    assert.equal(m.controller.state.quitting, true);
  } finally {
    m.unmount();
  }
});

test('resize: the frame is laid out again within the new size', async () => {
  const m = await mountWizard(await demo());
  try {
    await m.until('Supported');
    assertFits(m.frame(), 100, 30);
    await m.resize(60, 16);
    await m.settle();
    assertFits(m.frame(), 60, 16);
    assert.match(m.frame(), /Storage the initrd must bring up/);
    await m.resize(140, 50);
    await m.settle();
    assertFits(m.frame(), 140, 50);
    assert.match(m.frame(), /Supported: mkosi-initrd/, 'a taller terminal shows more');
  } finally {
    m.unmount();
  }
});

test('a bug in a screen ends the wizard with a one-line internal error, not a stack trace on the screen', async () => {
  const base = await demo();
  const broken: WizardServices = {
    ...base,
    loadHost: async () => {
      const host = await base.loadHost();
      return { ...host, report: { ...host.report, mounts: null as never } };
    },
  };
  const quiet = console.error;
  console.error = () => undefined;
  try {
    const m = await mountWizard(broken);
    await m.settle();
    const o = m.controller.result;
    assert.ok(o, 'the wizard ended');
    assert.equal(o.code, 1);
    assert.match(o.summary, /^initrd-wizard: internal error: .+\ninitrd-wizard: please report this/);
    assert.doesNotMatch(m.frame(), /\s+at \S+ \(/, 'no stack frames on screen');
    m.unmount();
  } finally {
    console.error = quiet;
  }
});
