/**
 * The package people install: `npm pack`, then `npm install -g` into a
 * throwaway prefix, then the installed command run from `/`, away from the
 * checkout: profiles, the demo, libexec and the man page are found relative
 * to the installed package.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, tempDir } from '../helpers.js';
import { makeFleet } from '../support/fleet.js';

test('npm pack, npm install -g, and the command works from / with its man page', { timeout: 600_000 }, async () => {
  const { dir, cleanup } = await tempDir('iw-pkg-');
  try {
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const tgz = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
    const prefix = path.join(dir, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', path.join(dir, tgz)], { stdio: ['ignore', 'ignore', 'inherit'] });
    const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`, CI: '1' };
    const run = (args: string[]) => spawnSync('initrd-wizard', args, { cwd: '/', env, encoding: 'utf8' });
    const installed = path.join(prefix, 'lib', 'node_modules', 'initrd-wizard');

    assert.match(run(['--version']).stdout, /^\d+\.\d+\.\d+/);
    const detect = run(['detect', '--snapshot', path.join(installed, 'test/fixtures/snapshots/raid1')]);
    assert.equal(detect.status, 0, detect.stderr);
    assert.match(detect.stdout, /└─ md0 {2}raid1/);
    const suggest = run(['suggest', '--snapshot', path.join(installed, 'test/fixtures/snapshots/raid1'), '--json']);
    assert.equal(suggest.status, 0, suggest.stderr);
    assert.ok((JSON.parse(suggest.stdout) as { profiles: string[] }).profiles.includes('raid'), 'profiles found in the installed package');
    const demo = run(['--demo']);
    assert.equal(demo.status, 0, demo.stderr);
    assert.match(demo.stdout, /Demo: the bundled snapshot/);
    const root = path.join(dir, 'root');
    await mkdir(root);
    const revert = run(['revert', '--root', root]);
    assert.equal(revert.status, 0, revert.stderr);
    assert.match(revert.stdout, /Nothing to revert/);
    // A fleet large enough for worker threads: their script is found in the installed package too.
    await makeFleet(path.join(dir, 'fleet'), path.join(dir, 'originals'), 600, 'tar');
    const fleet = run(['fleet', path.join(dir, 'fleet'), '--json']);
    assert.equal(fleet.status, 3, fleet.stderr);
    assert.equal((JSON.parse(fleet.stdout) as { summary: { hosts: number } }).summary.hosts, 600);
    assert.ok(existsSync(path.join(installed, 'contrib/ansible/rollout.yml')), 'the Ansible playbooks ship with the package');

    const manPage = path.join(prefix, 'share', 'man', 'man1', 'initrd-wizard.1');
    assert.ok(existsSync(manPage), 'npm links the man page into the prefix');
    const man = spawnSync('man', ['-l', manPage], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100' } });
    assert.equal(man.status, 0, man.stderr);
    assert.match(man.stdout.replace(/.\x08/g, ''), /INITRD-WIZARD\(1\)/);
  } finally {
    await cleanup();
  }
});

test('packaging/initrd-wizard.spec builds an RPM of the tool that runs with Node alone', { timeout: 600_000 }, async () => {
  const { dir, cleanup } = await tempDir('iw-rpm-');
  try {
    const sources = path.join(dir, 'sources');
    await mkdir(sources);
    execFileSync('npm', ['pack', '--silent', '--pack-destination', sources], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('rpmbuild', ['--define', `_sourcedir ${sources}`, '--define', `_topdir ${path.join(dir, 'top')}`, '-bb', path.join(ROOT, 'packaging/initrd-wizard.spec')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const rpmDir = path.join(dir, 'top', 'RPMS', 'noarch');
    const rpm = path.join(rpmDir, (await readdir(rpmDir)).find((f) => f.endsWith('.rpm'))!);
    const files = execFileSync('rpm', ['-qlp', rpm], { encoding: 'utf8' }).split('\n');
    for (const f of ['/usr/bin/initrd-wizard', '/usr/lib/initrd-wizard/dist/bin/initrd-wizard.js', '/usr/lib/initrd-wizard/profiles/raid.ini', '/usr/lib/initrd-wizard/libexec/50-mkosi-initrd.install', '/usr/share/bash-completion/completions/initrd-wizard', '/usr/share/zsh/site-functions/_initrd-wizard']) {
      assert.ok(files.includes(f), `${f} in the package`);
    }
    assert.ok(files.some((f) => f.startsWith('/usr/share/man/man1/initrd-wizard.1')), 'the man page');
    assert.ok(files.includes('/usr/lib/initrd-wizard/dist/bin/fleet-worker.js'), 'the fleet\'s worker thread');
    // Fedora's rpm names the directory /usr/share/doc/NAME, Debian's rpm NAME-VERSION.
    assert.ok(files.some((f) => /^\/usr\/share\/doc\/initrd-wizard(-[^/]+)?\/contrib\/ansible\/rollout\.yml$/.test(f)), 'the Ansible playbooks, as documentation');
    assert.ok(!files.some((f) => f.includes('/node_modules/')), 'the bundle needs no node_modules');
    assert.ok(!files.some((f) => f.startsWith('/usr/lib/kernel/install.d/')), 'no kernel-install plugin of its own in /usr: install adds one only where mkosi has none');
    assert.match(execFileSync('rpm', ['-qp', '--requires', rpm], { encoding: 'utf8' }), /^nodejs >= 20$/m);
    // What a Fedora user gets, run from / with no checkout and no node_modules anywhere near.
    const tree = path.join(dir, 'tree');
    await mkdir(tree);
    execFileSync('sh', ['-c', `rpm2cpio "$1" | cpio -idm --quiet`, 'sh', rpm], { cwd: tree });
    const cli = path.join(tree, 'usr/lib/initrd-wizard/dist/bin/initrd-wizard.js');
    const suggest = spawnSync(process.execPath, [cli, 'suggest', '--json', '--snapshot', path.join(tree, 'usr/lib/initrd-wizard/test/fixtures/snapshots/raid1')], { cwd: '/', encoding: 'utf8' });
    assert.equal(suggest.status, 0, suggest.stderr);
    assert.ok((JSON.parse(suggest.stdout) as { profiles: string[] }).profiles.includes('raid'));
  } finally {
    await cleanup();
  }
});
