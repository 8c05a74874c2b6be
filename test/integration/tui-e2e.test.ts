/**
 * The built binary in a real terminal: tmux at 120x40 runs `initrd-wizard
 * --demo`, the test types like a user and reads the screen, through every
 * step to Installed, then checks the files, the exit status and that the
 * terminal came back from the alternate screen. Also: Ctrl-C and SIGTERM
 * restore the terminal; no terminal (or CI) gets the plain message.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSession } from '../support/tmux.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { CLI, ROOT, runCli } from '../helpers.js';

let work: string;
let env: Record<string, string | undefined>;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'iw-e2e-'));
  // A fresh cache and config: the first run of a new user, metadata read cold.
  env = { CI: undefined, XDG_CACHE_HOME: path.join(work, 'cache'), INITRD_WIZARD_CONFIG_DIR: path.join(work, 'config'), TMPDIR: work };
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('tmux: the demo from Host to Installed with the real binary, then the terminal is restored', async () => {
  const s = await startSession({ argv: [process.execPath, CLI, '--demo'], cols: 120, rows: 40, env });
  try {
    let screen = await s.waitFor('Storage the initrd must bring up', { timeoutMs: 15_000 });
    assert.match(screen, /^initrd-wizard {2}DEMO {2}demo: snapshot btrfs-luks-tpm2-hibernate/m);
    assert.match(screen, /└─ luks-c4a7e2f1-0001\S*\s+crypt/);
    assert.match(screen, /\? help · q quit\s*$/m, 'footer with key help on the last line');
    assert.match(screen.split('\n')[0]!, /^initrd-wizard/, 'the frame fits: nothing scrolled off the top');

    await s.keys('Enter');
    await s.waitFor("Variant: 5 profiles · 1 package beyond mkosi-initrd's own");
    await s.keys('Enter');
    await s.waitFor(/Packages: \d+ requested/);
    await s.type('/');
    await s.waitFor('search:');
    await s.type('plymouth');
    await s.waitFor(/> plymouth\s+⏎ adds/, { timeoutMs: 30_000 });
    await s.keys('Enter');
    await s.waitFor(/> \+ plymouth\s+added by you/);
    // Asked again for a package already in the list: nothing changes, and it says so.
    await s.type('/');
    await s.waitFor('search:');
    await s.type('plymouth');
    await s.waitFor(/> plymouth\s+in the list \(you\)/, { timeoutMs: 30_000 });
    await s.keys('Enter');
    screen = await s.waitFor('plymouth is already in the list (added by you)');
    assert.match(screen, /you: \+1 −0/);
    // The keys that work are the keys ? lists.
    await s.type('?');
    screen = await s.waitFor('any key closes this help');
    assert.match(screen, /space x d\s+Packages: remove or restore the selected package/);
    assert.match(screen, /^\s+c\s+Build: cancel the running build/m);
    assert.match(screen, /PgDn ctrl-d\s+a page up or down/);
    await s.type('z');
    await s.waitFor(/Packages: \d+ requested/);

    await s.keys('Right');
    screen = await s.waitFor(/Closure: \d+ packages · [\d.]+ MiB installed/, { timeoutMs: 30_000 });
    assert.match(screen, /why \S+: /);
    await s.keys('j', 'j', 'k');
    await s.waitFor(/^> \S+/m);

    await s.keys('Enter');
    await s.waitFor('Press b (or ⏎) to build');
    await s.type('b');
    screen = await s.waitFor('Built and verified', { timeoutMs: 30_000 });
    assert.match(screen, /✓ resume-generator/);
    await s.keys('Enter');
    screen = await s.waitFor(/Review: 5 file\(s\) change under (\S+)/);
    const root = /Review: 5 file\(s\) change under (\S+)/.exec(screen)![1]!;
    assert.ok(root.startsWith(work), `the demo root is a temporary directory: ${root}`);
    await s.type('y');
    screen = await s.waitFor(/Undo everything: .* revert --root/);
    // One way to quit in the footer, and no regenerate key where the demo cannot regenerate.
    const keys = screen.trimEnd().split('\n').at(-1)!;
    assert.equal(keys.match(/q quit/g)?.length, 1, keys);
    assert.doesNotMatch(keys, /\br regenerate/);
    // The command shown is one this shell can run: no initrd-wizard is installed here, so node and the script's path.
    const undo = /Undo everything: (.*) revert --root/.exec(screen)![1]!;
    assert.equal(undo, `node ${CLI}`);

    assert.match(await readFile(path.join(root, 'etc/kernel/install.conf'), 'utf8'), /^initrd_generator=mkosi-initrd$/m);
    assert.match(await readFile(path.join(root, 'etc/mkosi-initrd/mkosi.conf.d/50-initrd-wizard.conf'), 'utf8'), /^ +plymouth$/m);
    assert.equal(await readlink(path.join(root, 'etc/kernel/install.d/50-dracut.install')), '/dev/null');

    await s.type('q');
    assert.equal(await s.waitForExit(10_000), 0);
    screen = await s.capture();
    assert.match(screen, /Installed into \S+: /);
    assert.match(screen, /The demo worked in a temporary directory, now removed: nothing on this machine was changed\./);
    assert.doesNotMatch(screen, /Undo with/, 'no command to undo what no longer exists');
    assert.equal(existsSync(path.dirname(root)), false, `the demo's directory is gone: ${path.dirname(root)}`);
    assert.doesNotMatch(screen, /initrd-wizard {2}DEMO/, 'the alternate screen is gone');
    // The choice is remembered for next time.
    assert.match(await readFile(path.join(work, 'config', 'choices.json'), 'utf8'), /"plymouth"/);
  } finally {
    await s.kill();
  }
});

test('tmux: saved choices are offered, not overwritten by a change, and x asks before discarding; the quit dialog shows its own keys', async () => {
  const own = { ...env, INITRD_WIZARD_CONFIG_DIR: path.join(work, 'config-saved') };
  const first = await startSession({ argv: [process.execPath, CLI, '--demo'], cols: 120, rows: 40, env: own });
  try {
    await first.waitFor('Storage the initrd must bring up', { timeoutMs: 15_000 });
    await first.keys('Enter', 'Enter');
    await first.waitFor(/Packages: \d+ requested/);
    await first.type('/');
    await first.waitFor('search:');
    await first.type('plymouth');
    await first.waitFor(/> plymouth\s+⏎ adds/, { timeoutMs: 30_000 });
    await first.keys('Enter');
    await first.waitFor(/> \+ plymouth\s+added by you/);
    await first.type('q');
    assert.equal(await first.waitForExit(10_000), 0);
  } finally {
    await first.kill();
  }
  const file = path.join(own.INITRD_WIZARD_CONFIG_DIR, 'choices.json');
  const saved = await readFile(file, 'utf8');
  const second = await startSession({ argv: [process.execPath, CLI, '--demo'], cols: 120, rows: 40, env: own });
  try {
    await second.waitFor('Storage the initrd must bring up', { timeoutMs: 15_000 });
    await second.keys('Enter', 'Enter');
    let screen = await second.waitFor(/Saved choices from .*: \+1 −0 packages/);
    assert.match(screen, /r restore saved · x discard saved/);
    await second.keys('Space');
    await second.waitFor('Not saved: your earlier choices are still offered');
    assert.equal(await readFile(file, 'utf8'), saved, 'the saved choices are untouched');
    await second.type('x');
    screen = await second.waitFor('Discard the saved choices?');
    assert.match(screen, /^y discard the saved choices · n\/esc keep them\s*$/m);
    await second.type('n');
    await second.waitFor(/Saved choices from/);
    assert.equal(await readFile(file, 'utf8'), saved);
    // Through Build, then q: the dialog's footer offers its own keys, not the screen's.
    await second.type('r');
    await second.keys('Right');
    await second.waitFor(/Closure: \d+ packages/, { timeoutMs: 30_000 });
    await second.keys('Enter');
    await second.type('b');
    await second.waitFor('Built and verified', { timeoutMs: 30_000 });
    await second.type('q');
    screen = await second.waitFor('Quit?');
    assert.match(screen, /^y\/q quit · n\/esc stay\s*$/m);
    assert.doesNotMatch(screen.split('\n').slice(-3).join('\n'), /apply|build twice/);
    await second.type('y');
    assert.equal(await second.waitForExit(10_000), 0);
  } finally {
    await second.kill();
  }
});

test('tmux: Ctrl-C and SIGTERM leave the terminal as it was', async () => {
  const a = await startSession({ argv: [process.execPath, CLI, '--demo'], cols: 100, rows: 30, env });
  try {
    await a.waitFor('Storage the initrd must bring up', { timeoutMs: 15_000 });
    await a.keys('C-c');
    assert.equal(await a.waitForExit(10_000), 130);
    const screen = await a.capture({ ansi: true });
    assert.doesNotMatch(screen, /Storage the initrd/);
    assert.match(screen, /Nothing was installed/);
  } finally {
    await a.kill();
  }
  const pidFile = path.join(work, 'pid');
  const b = await startSession({ argv: ['/bin/sh', '-c', `echo $$ > ${pidFile}; exec "$0" "$@"`, process.execPath, CLI, '--demo'], cols: 100, rows: 30, env });
  try {
    await b.waitFor('Storage the initrd must bring up', { timeoutMs: 15_000 });
    process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGTERM');
    assert.equal(await b.waitForExit(10_000), 143);
    assert.doesNotMatch(await b.capture(), /Storage the initrd/);
  } finally {
    await b.kill();
  }
});

test('no terminal, CI set, or --json: no screens, a plain pointer to the subcommands', async () => {
  for (const args of [[], ['--json']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\x1b\[\?1049h/);
  }
  assert.match((await runCli([])).stdout, /initrd-wizard(\.js)? detect/);
  // In a terminal but with CI set.
  const s = await startSession({ argv: [process.execPath, CLI], cols: 100, rows: 30, env: { ...env, CI: 'true' } });
  try {
    assert.equal(await s.waitForExit(10_000), 0);
    assert.match(await s.capture(), /Choose a subcommand/);
  } finally {
    await s.kill();
  }
  assert.ok(existsSync(CLI));
});

test('tmux: --snapshot opens the wizard on another machine\'s capture; an unsupported host stops at Host', async () => {
  const s = await startSession({ argv: [process.execPath, CLI, '--snapshot', path.join(ROOT, 'test/fixtures/snapshots/multipath'), '--root', work], cols: 120, rows: 40, env });
  try {
    const screen = await s.waitFor('NOT SUPPORTED', { timeoutMs: 15_000 });
    assert.match(screen, /snapshot .*multipath/);
    assert.match(screen, /\[multipath\]/);
    assert.match(screen, /keep initramfs-tools on this host/);
    assert.match(screen, /^↑↓ scroll · s save snapshot · \? help · q quit\s*$/m, 'no "next" offered where the wizard goes no further');
    await s.keys('Enter');
    await s.waitFor('installing is not offered');
    await s.type('q');
    assert.equal(await s.waitForExit(10_000), 0);
  } finally {
    await s.kill();
  }
});

test('tmux: at 80x24 the verdict is on the first screen and the rest is announced, not hidden', async () => {
  const s = await startSession({ argv: [process.execPath, CLI, '--snapshot', path.join(ROOT, 'test/fixtures/snapshots/multipath'), '--root', work], cols: 80, rows: 24, env });
  try {
    const screen = await s.waitFor(/more lines below/, { timeoutMs: 15_000 });
    assert.match(screen, /NOT SUPPORTED by a package-built initrd \(multipath\)/);
    assert.match(screen, /↓ \d+ more lines below: ↓, PgDn or ctrl-d scrolls/);
    for (const l of screen.split('\n')) assert.ok(l.length <= 80, l);
    // ↓ first: a C-d typed before the wizard switched the terminal to raw mode would be the tty's end-of-file.
    await s.keys('Down');
    await s.waitFor(/^─+\nNOT SUPPORTED by a package-built initrd \(multipath\)/m);
    await s.keys('C-d');
    // The last line is there, wrapped rather than cut at 80 columns.
    await s.waitFor(/installing is not\s+offered\./);
    await s.type('q');
    assert.equal(await s.waitForExit(10_000), 0);
  } finally {
    await s.kill();
  }
});

test('tmux: s with --snapshot saves a copy of the capture on screen, not of the machine running the wizard', async () => {
  const fixture = path.join(ROOT, 'test/fixtures/snapshots/raid1');
  const here = await mkdtemp(path.join(work, 'save-'));
  const s = await startSession({ argv: [process.execPath, CLI, '--snapshot', fixture, '--root', work], cols: 120, rows: 40, env, cwd: here });
  try {
    const host = await s.waitFor('Storage the initrd must bring up', { timeoutMs: 15_000 });
    // The storage tree: both RAID members under md0, not a chain through one of them.
    assert.match(host, /└─ md0 {2}raid1.*\n +├─ vda2 {2}part.*\n +│ {2}└─ vda {2}disk.*\n +└─ vdb2 {2}part.*\n +└─ vdb {2}disk/);
    await s.type('s');
    const screen = await s.waitFor(/Snapshot saved to (\S+)/, { timeoutMs: 30_000 });
    const saved = /Snapshot saved to (\S+)/.exec(screen)![1]!;
    assert.ok(saved.startsWith(here), `saved in the working directory: ${saved}`);
    const [copy, original] = await Promise.all([loadSnapshot(saved), loadSnapshot(fixture)]);
    assert.deepEqual(copy.meta, original.meta);
    assert.deepEqual([...copy.files.keys()].sort(), [...original.files.keys()].sort());
    for (const [name, text] of original.files) assert.equal(copy.files.get(name), text, name);
    // Not this machine: its own command line is nowhere in the copy.
    const mine = (await readFile('/proc/cmdline', 'utf8')).trim();
    assert.notEqual(copy.files.get('/proc/cmdline')?.trim(), mine);
    await s.type('q');
    assert.equal(await s.waitForExit(10_000), 0);
  } finally {
    await s.kill();
  }
});

test('tmux: --fleet shows every host and the variants; ⏎ opens a host in the wizard and q there comes back to the table', async () => {
  const fixtures = path.join(ROOT, 'test/fixtures/snapshots');
  const s = await startSession({ argv: [process.execPath, CLI, '--fleet', fixtures, '--root', work], cols: 120, rows: 40, env });
  try {
    let screen = await s.waitFor(/^\d+ hosts: \d+ supported/m, { timeoutMs: 20_000 });
    assert.match(screen, /^initrd-wizard {2}fleet .*snapshots$/m);
    assert.match(screen, /^> bcache\s+NOT SUPPORTED\s+-\s+bcache on /m, 'the first host selected, its verdict and why');
    assert.match(screen, /^bcache on .*: Keep initramfs-tools as the initrd generator/m, 'the selected host\'s advice below the table');
    assert.match(screen, /^↑↓ move · ⏎ open this host · tab variants · \? help · q quit\s*$/m, 'an unsupported host opens too: the wizard shows its diagnosis');
    const sum = JSON.parse((await runCli(['fleet', fixtures, '--json'])).stdout).summary as Record<string, number>;
    assert.ok(screen.includes(`${sum.hosts} hosts: ${sum.supported} supported, ${sum.unsupported} not supported, ${sum.cannotTell} cannot tell, ${sum.unreadable} unreadable · ${sum.variants} variants\n`), 'the same counts as `fleet`');
    // Down to raid1, a supported host (as many presses as hosts before it in fleet's order), then open it.
    const order = JSON.parse((await runCli(['fleet', fixtures, '--json'])).stdout).hosts.map((h: { name: string }) => h.name);
    for (let i = 0; i < order.indexOf('raid1'); i++) await s.keys('Down');
    screen = await s.waitFor(/^> raid1 /m);
    assert.match(screen, /^> raid1\s+supported\s+[0-9a-f]{12}\s+raid/m);
    assert.match(screen, /⏎ open this host/);
    await s.keys('Enter');
    screen = await s.waitFor('Storage the initrd must bring up', { timeoutMs: 15_000 });
    assert.match(screen, /snapshot .*raid1/);
    assert.match(screen, /└─ vdb2/);
    await s.type('q');
    screen = await s.waitFor('back from raid1', { timeoutMs: 10_000 });
    assert.match(screen, /^> raid1 /m, 'the table where it was');
    // The variants: raid1's groups bookworm RAID hosts; ⏎ lists its hosts, esc all of them again.
    await s.keys('Tab');
    screen = await s.waitFor(/Variants.*\n─+\n {2}variant/s);
    assert.match(screen, /^> [0-9a-f]{12}\s+\d+ hosts?\s+debian/m);
    await s.keys('Enter');
    screen = await s.waitFor(/ Hosts of [0-9a-f]{12} /);
    assert.match(screen, /esc all hosts/);
    await s.keys('Escape');
    await s.waitFor(/^> bcache /m);
    await s.type('q');
    assert.equal(await s.waitForExit(10_000), 0);
  } finally {
    await s.kill();
  }
});

test('tmux: SIGTERM on the fleet table leaves the terminal as it was, with 143', async () => {
  const pidFile = path.join(work, 'fleet-pid');
  const fixtures = path.join(ROOT, 'test/fixtures/snapshots');
  const s = await startSession({ argv: ['/bin/sh', '-c', `echo $$ > ${pidFile}; exec "$0" "$@"`, process.execPath, CLI, '--fleet', fixtures], cols: 100, rows: 30, env });
  try {
    await s.waitFor(/^> bcache /m, { timeoutMs: 20_000 });
    process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGTERM');
    assert.equal(await s.waitForExit(10_000), 143);
    assert.doesNotMatch(await s.capture(), /bcache/, 'back from the alternate screen');
  } finally {
    await s.kill();
  }
});
