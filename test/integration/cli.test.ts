import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CLI, runCli, tempDir, isRoot } from '../helpers.js';

test('--help lists the subcommands and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['snapshot', 'detect', 'suggest']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

test('an unknown option is bad usage: exit 2 with a pointer to --help', async () => {
  const r = await runCli(['detect', '--no-such-flag']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option/);
  assert.match(r.stderr, /--help/);
});

test('detect and snapshot run on this very machine', async () => {
  const detect = await runCli(['detect', '--json']);
  assert.ok([0, 3].includes(detect.code), detect.stderr);
  const report = JSON.parse(detect.stdout);
  assert.equal(report.mounts[0].target, '/');
  assert.ok(report.mounts[0].chain.length >= 1, 'the root has a device chain');
  assert.ok(Array.isArray(report.features) && Array.isArray(report.unsupported) && Array.isArray(report.warnings));

  const { dir, cleanup } = await tempDir();
  try {
    const out = path.join(dir, 'snap');
    const snap = await runCli(['snapshot', '--output', out, '--json']);
    assert.equal(snap.code, 0, snap.stderr);
    const files = await readdir(out);
    for (const f of ['snapshot.json', 'errors.json', 'lsblk.json', 'findmnt.json', 'cmdline']) assert.ok(files.includes(f), `${f} captured`);
    const again = await runCli(['detect', '--json', '--snapshot', out]);
    assert.deepEqual(JSON.parse(again.stdout).features, report.features, 'a snapshot replays to the same answer');
  } finally {
    await cleanup();
  }
});

test('snapshot works as a normal user and says what it missed', { skip: !isRoot && 'needs root to switch to nobody' }, async () => {
  const { dir, cleanup } = await tempDir();
  try {
    execFileSync('chmod', ['0777', dir]);
    const out = path.join(dir, 'snap');
    const r = (() => {
      try {
        return { code: 0, stdout: execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, 'snapshot', '--output', out], { encoding: 'utf8', cwd: dir }) };
      } catch (err) {
        const e = err as { status: number; stdout: string };
        return { code: e.status, stdout: e.stdout };
      }
    })();
    assert.equal(r.code, 0);
    assert.match(r.stdout, /normal user/);
    assert.ok((await readdir(out)).includes('lsblk.json'));
  } finally {
    await cleanup();
  }
});

test('a snapshot directory that does not exist: exit 2, the path and the next step, no stack', async () => {
  const r = await runCli(['detect', '--snapshot', '/nonexistent/snap']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /snapshot \/nonexistent\/snap does not exist/);
  assert.match(r.stderr, /next step: .*initrd-wizard snapshot/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('bad snapshots are refused with the file named', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const real = path.join(dir, 'real');
    assert.equal((await runCli(['snapshot', '--output', real])).code, 0);
    const variant = async (name: string, change: (d: string) => Promise<void>) => {
      const d = path.join(dir, name);
      await cp(real, d, { recursive: true });
      await change(d);
      return runCli(['detect', '--json', '--snapshot', d]);
    };

    const noMeta = await variant('no-meta', (d) => rm(path.join(d, 'snapshot.json')));
    assert.equal(noMeta.code, 2);
    assert.match(noMeta.stderr, /snapshot\.json is missing/);
    assert.match(JSON.parse(noMeta.stdout).error.hint, /initrd-wizard snapshot/);

    const truncated = await variant('truncated-lsblk', async (d) => {
      const text = execFileSync('head', ['-c', '300', path.join(d, 'lsblk.json')], { encoding: 'utf8' });
      await writeFile(path.join(d, 'lsblk.json'), text);
    });
    assert.equal(truncated.code, 2);
    assert.match(truncated.stderr, /lsblk\.json: not valid JSON/);

    const notJson = await variant('lsblk-text', (d) => writeFile(path.join(d, 'lsblk.json'), 'NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\nvda 254:0 0 256G 0 disk /\n'));
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /lsblk\.json/);

    const emptyFindmnt = await variant('empty-findmnt', (d) => writeFile(path.join(d, 'findmnt.json'), ''));
    // The fstab of this machine may not list "/": either way the answer names findmnt.json.
    assert.ok([0, 2, 3].includes(emptyFindmnt.code));
    assert.match(emptyFindmnt.code === 2 ? emptyFindmnt.stderr : JSON.parse(emptyFindmnt.stdout).warnings.join('\n'), /findmnt/);

    const garbageCrypttab = await variant('garbage-crypttab', (d) => writeFile(path.join(d, 'crypttab'), '# ok\n\u0001\u0002 garbage line with far too many fields here\n'));
    assert.notEqual(garbageCrypttab.code, 2);
    assert.ok(JSON.parse(garbageCrypttab.stdout).warnings.some((w: string) => /crypttab line 2/.test(w)));

    const badMeta = await variant('bad-meta', (d) => writeFile(path.join(d, 'snapshot.json'), '{"format": "one"}'));
    assert.equal(badMeta.code, 2);
    assert.match(badMeta.stderr, /snapshot\.json is not a snapshot header: format/);

    const newer = await variant('newer-format', (d) => writeFile(path.join(d, 'snapshot.json'), '{"format": 9, "kernel": "k", "extra": 1}'));
    assert.notEqual(newer.code, 2);
    assert.ok(JSON.parse(newer.stdout).warnings.some((w: string) => /format 9 is newer/.test(w)));
  } finally {
    await cleanup();
  }
});

test('--json errors are one JSON document on stdout, diagnostics on stderr', async () => {
  const r = await runCli(['suggest', '--json', '--snapshot', '/nonexistent']);
  assert.equal(r.code, 2);
  const doc = JSON.parse(r.stdout);
  assert.match(doc.error.message, /does not exist/);
});

test('an unknown --distro is bad input naming the known ones', async () => {
  const r = await runCli(['suggest', '--distro', 'plan9']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown distribution "plan9"/);
  assert.match(r.stderr, /fedora/);
});

test('snapshot refuses to overwrite a non-empty directory', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await mkdir(path.join(dir, 'x'));
    await writeFile(path.join(dir, 'x', 'f'), '');
    const r = await runCli(['snapshot', '--output', path.join(dir, 'x')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not empty/);
  } finally {
    await cleanup();
  }
});

test('bad input at the top level is exit 2 naming the problem: an unknown command, --demo with host flags, a missing snapshot', async () => {
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /error: unknown command "frobnicate"/);
  assert.match(unknown.stderr, /next step: the commands are snapshot, detect, suggest, closure, build, export, boot-test, install, revert, fleet, doctor; run (node )?\S*initrd-wizard\S* --help/);
  // Subcommands stay strict about stray words.
  assert.match((await runCli(['detect', 'extra'])).stderr, /too many arguments for 'detect'/);
  for (const flag of ['--snapshot', '--root']) {
    const r = await runCli(['--demo', flag, 'test/fixtures/snapshots/raid1'], { CI: '1' });
    assert.equal(r.code, 2, `--demo ${flag}`);
    assert.match(r.stderr, new RegExp(`error: ${flag} does not apply to --demo`));
  }
  // Before any screen: a snapshot that cannot be read is never a wizard the user then quits with 0.
  const missing = await runCli(['--snapshot', '/nonexistent'], { CI: '1' });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /error: snapshot \/nonexistent does not exist/);
});

test('closure: a requested package nobody has is exit 2; a host no package-built initrd supports is exit 3 with the verdict first', async () => {
  const { dir, cleanup } = await tempDir('iw-cli-closure-');
  try {
    const { writeHandRepo, primaryXml } = await import('../support/handmade-repo.js');
    await writeHandRepo(dir, primaryXml([{ name: 'a', requires: ['b'] }, { name: 'b' }]));
    const typo = await runCli(['closure', '--repo', `h=${dir}`, '--packages', 'a,nosuchpkg'], { XDG_CACHE_HOME: path.join(dir, 'cache') });
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, /error: no package named or providing "nosuchpkg"/);
    // A dependency nobody provides is the repository's state, not a typo: still 1.
    await writeHandRepo(dir, primaryXml([{ name: 'a', requires: ['gone'] }]));
    const broken = await runCli(['closure', '--repo', `h=${dir}`, '--packages', 'a'], { XDG_CACHE_HOME: path.join(dir, 'cache') });
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stderr, /nothing provides gone needed by a/);
  } finally {
    await cleanup();
  }
  const multipath = await runCli(['closure', '--snapshot', 'test/fixtures/snapshots/multipath']);
  if (/apt|metadata|Packages/.test(multipath.stderr) && multipath.code !== 3) return; // no apt lists on this machine
  assert.equal(multipath.code, 3, multipath.stderr);
  assert.match(multipath.stdout, /^NOT SUPPORTED by a package-built initrd:\n {2}\[multipath\]/);
  assert.match(multipath.stdout, /The closure below is what the variant would pull in, for reference only/);
});

test('install into a root with no /etc is exit 2 saying so, not a read-only /etc', async () => {
  const { dir, cleanup } = await tempDir('iw-cli-noetc-');
  try {
    const r = await runCli(['install', '--dry-run', '--root', dir, '--snapshot', 'test/fixtures/snapshots/raid1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`error: ${dir} has no /etc: it is not the root of an installed system`));
    assert.doesNotMatch(r.stderr, /not writable/);
  } finally {
    await cleanup();
  }
});
