/**
 * contrib/ansible with the real ansible-playbook (ansible-core) against local
 * targets: every inventory host has `ansible_connection=local` and its own
 * temporary root. collect.yml fetches one HOST.tar per host that `fleet`
 * reads; rollout.yml runs doctor as a gate, installs in serial batches and
 * reverts the host whose step failed, leaving its root byte-identical, while
 * the others stay installed. Ansible is kept hermetic: its home, temp
 * directories and configuration are in the test's temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, open, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeRoot, treeHash, type StartTree } from '../support/roots.js';
import { CLI, ROOT, fixture, runCli, tempDir } from '../helpers.js';

const PLAYBOOKS = path.join(ROOT, 'contrib', 'ansible');
const PYTHON = '/usr/bin/python3';
// Looked up, not run: any ansible-playbook run outside ansibleEnv() would make ~/.ansible.
const haveAnsible = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { stdio: 'ignore' }).status === 0;
const haveKernelInstall = spawnSync('kernel-install', ['--version'], { stdio: 'ignore' }).status === 0;
const haveMkosi = /mkosi (2[4-9]|[3-9]\d)/.test(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
// doctor checks the running system's kernel: one that is installed with its modules and image passes.
const kver = existsSync('/usr/lib/modules') ? readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/modules.dep`) && existsSync(`/usr/lib/modules/${k}/vmlinuz`)) : undefined;
const SNAP = fixture('luks2-lvm-hibernate');
const doctorArgs = (snapshot: string) => ['--snapshot', snapshot, '--kernel-version', kver ?? ''];
/** doctor, as the gate will run it for a supported host: it must pass on this machine for the rollout to get anywhere. */
const doctorHere = kver && haveMkosi ? spawnSync(process.execPath, [CLI, 'doctor', '--json', ...doctorArgs(SNAP)], { encoding: 'utf8' }) : null;
const doctorFails = doctorHere && doctorHere.status !== 0 ? (JSON.parse(doctorHere.stdout || '{"items":[]}') as { items: Array<{ id: string; ok: boolean; detail: string }> }).items.filter((i) => !i.ok).map((i) => `${i.id}: ${i.detail}`).join('; ') : '';
const skipBase = !haveAnsible ? 'ansible-playbook missing (apt-get install ansible-core)' : !existsSync(PYTHON) ? `${PYTHON} missing` : false;
const skipRollout =
  skipBase ||
  (!haveKernelInstall ? 'kernel-install missing' : !haveMkosi ? 'mkosi >= 24 missing (bash test/mkosi/setup-host.sh)' : !kver ? 'no kernel with modules.dep and vmlinuz' : doctorFails ? `doctor does not pass on this machine: ${doctorFails}` : false);

interface Host {
  name: string;
  vars: Record<string, unknown>;
}

/** A hermetic ansible: nothing read from or written to ~/.ansible or /etc/ansible, no colours, no retry files. */
async function ansibleEnv(dir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ANSIBLE_')) env[k] = v;
  for (const d of ['ansible-home', 'ansible-local', 'ansible-remote', 'tmp']) await mkdir(path.join(dir, d), { recursive: true });
  await writeFile(path.join(dir, 'ansible.cfg'), '[defaults]\n');
  return {
    ...env,
    PATH: `${path.dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}`,
    // The local connection's modules inherit this: the tempfile module makes its directory here.
    TMPDIR: path.join(dir, 'tmp'),
    ANSIBLE_CONFIG: path.join(dir, 'ansible.cfg'),
    ANSIBLE_HOME: path.join(dir, 'ansible-home'),
    ANSIBLE_LOCAL_TEMP: path.join(dir, 'ansible-local'),
    ANSIBLE_REMOTE_TEMP: path.join(dir, 'ansible-remote'),
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_GATHERING: 'explicit',
    ANSIBLE_STDOUT_CALLBACK: 'default',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
    ANSIBLE_LOCALHOST_WARNING: 'False',
    ANSIBLE_FORKS: '10',
  };
}

/**
 * Each host gets its own initrd-wizard: a wrapper that logs "HOST start|end ARGS" to one file (which host
 * ran which command, in which order, with which exit code), then runs the built CLI.
 */
async function wrapper(dir: string, host: string, log: string): Promise<string> {
  const bin = path.join(dir, 'bin', host, 'initrd-wizard');
  await mkdir(path.dirname(bin), { recursive: true });
  await writeFile(bin, `#!/bin/sh\necho "${host} start $*" >> '${log}'\n'${process.execPath}' '${CLI}' "$@"\nrc=$?\necho "${host} end rc=$rc $*" >> '${log}'\nexit $rc\n`);
  await chmod(bin, 0o755);
  return bin;
}

async function inventory(dir: string, hosts: Host[]): Promise<string> {
  const file = path.join(dir, 'inventory.json');
  const all = Object.fromEntries(hosts.map((h) => [h.name, { ansible_connection: 'local', ansible_python_interpreter: PYTHON, ...h.vars }]));
  await writeFile(file, JSON.stringify({ all: { hosts: all } }, null, 2));
  return file;
}

function playbook(dir: string, env: Record<string, string>, book: string, inv: string, extra: Record<string, unknown>): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('ansible-playbook', ['-i', inv, '-e', JSON.stringify(extra), path.join(PLAYBOOKS, book)], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, ms: Date.now() - started }));
  });
}

/** PLAY RECAP counters per host. */
function recap(out: string): Record<string, Record<string, number>> {
  const res: Record<string, Record<string, number>> = {};
  for (const m of out.matchAll(/^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$/gm)) res[m[1]!] = Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1]!, Number(x[2])]));
  return res;
}

test('collect.yml: one HOST.tar per host, flat on the controller, temp files removed, and fleet reads them', { skip: skipBase, timeout: 300_000 }, async (t) => {
  const { dir, cleanup } = await tempDir('iw-ansible-collect-');
  try {
    const env = await ansibleEnv(dir);
    const log = path.join(dir, 'calls.log');
    const names = ['ws-1', 'ws-2', 'ws-3'];
    const hosts: Host[] = [];
    for (const name of names) hosts.push({ name, vars: { initrd_wizard: await wrapper(dir, name, log) } });
    const snaps = path.join(dir, 'snapshots');
    const r = await playbook(dir, env, 'collect.yml', await inventory(dir, hosts), { initrd_wizard_become: false, initrd_wizard_snapshots: snaps });
    t.diagnostic(`collect.yml: ${r.ms} ms`);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual((await readdir(snaps)).sort(), names.map((n) => `${n}.tar`), 'one archive per host, nothing else');
    for (const n of names) {
      const fh = await open(path.join(snaps, `${n}.tar`));
      const magic = Buffer.alloc(6);
      await fh.read(magic, 0, 6, 257);
      await fh.close();
      assert.equal(magic.toString('latin1'), 'ustar\0', `${n}.tar is a ustar archive`);
    }
    assert.equal((await readFile(log, 'utf8')).split('\n').filter((l) => / start snapshot --output /.test(l)).length, 3, 'snapshot ran once per host');
    assert.deepEqual(await readdir(path.join(dir, 'tmp')), [], 'the temporary directories on the hosts are gone');
    assert.match(r.out, new RegExp(`run \`initrd-wizard fleet ${snaps}\``));

    const fleet = await runCli(['fleet', snaps, '--json']);
    assert.ok(fleet.code === 0 || fleet.code === 3, fleet.stderr);
    const doc = JSON.parse(fleet.stdout) as { hosts: Array<{ name: string; error: string | null }>; summary: { hosts: number; unreadable: number } };
    assert.deepEqual(doc.hosts.map((h) => h.name).sort(), names, fleet.stdout);
    assert.deepEqual(doc.hosts.filter((h) => h.error), [], 'every archive is readable');
    assert.equal(doc.summary.unreadable, 0);
  } finally {
    await cleanup();
  }
});

test('rollout.yml: doctor gate, install in serial batches, revert on the host whose step failed only', { skip: skipRollout, timeout: 300_000 }, async (t) => {
  const { dir, cleanup } = await tempDir('iw-ansible-rollout-');
  try {
    const env = await ansibleEnv(dir);
    const log = path.join(dir, 'calls.log');
    // Four batches of two (serial 2); in each one host succeeds and one fails in its own way, which is
    // 50 % of the batch: not more than max_fail_percentage 50, so the rollout goes on to the next batch.
    const plan: Array<{ name: string; tree: StartTree; doctor: string; regenerate?: boolean; earlier?: boolean }> = [
      { name: 'ok-1', tree: 'commented-install-conf', doctor: SNAP },
      // install applies the configuration, then --regenerate finds no kernel image for the kernel in this root
      // (as on a host whose kernel package is missing): install exits 1 with the configuration in place.
      { name: 'no-kernel', tree: 'commented-install-conf', doctor: SNAP, regenerate: true },
      { name: 'ok-2', tree: 'vendor-install-conf', doctor: SNAP },
      // doctor exits 3 on multipath storage: this host is never touched.
      { name: 'multipath', tree: 'commented-install-conf', doctor: fixture('multipath') },
      { name: 'ok-3', tree: 'no-install-conf', doctor: SNAP },
      // /etc/kernel/install.conf is a symlink: install refuses before its first write.
      { name: 'linked-conf', tree: 'symlinked-install-conf', doctor: SNAP },
      { name: 'ok-4', tree: 'existing-mask', doctor: SNAP },
      // Installed before the rollout (by hand, or an earlier run); this run's install is refused (the variant
      // was not built and checked here, and this host is not --force'd): revert would undo the earlier
      // install too, so the rescue leaves it and says so.
      { name: 'earlier', tree: 'commented-install-conf', doctor: SNAP, earlier: true },
    ];
    const hosts: Host[] = [];
    const before = new Map<string, string>();
    const roots = new Map<string, string>();
    for (const p of plan) {
      const root = path.join(dir, 'roots', p.name);
      await mkdir(root, { recursive: true });
      await makeRoot(root, p.tree);
      roots.set(p.name, root);
      if (p.earlier) {
        const r = await runCli(['install', '--root', root, '--snapshot', SNAP, '--yes', '--force']);
        assert.equal(r.code, 0, r.stderr);
      }
      before.set(p.name, await treeHash(root));
      hosts.push({
        name: p.name,
        vars: {
          initrd_wizard: await wrapper(dir, p.name, log),
          initrd_wizard_root: root,
          initrd_wizard_doctor_args: doctorArgs(p.doctor),
          // Not built here (a build takes minutes): install --force, as the install tests do.
          initrd_wizard_force: true,
          initrd_wizard_install_args: ['--snapshot', SNAP, '--kernel-version', kver!],
          ...(p.regenerate ? { initrd_wizard_regenerate: true } : {}),
          // No build on record for it (an empty cache), and no --force.
          ...(p.earlier ? { initrd_wizard_force: false, initrd_wizard_environment: { XDG_CACHE_HOME: path.join(dir, 'empty-cache') } } : {}),
        },
      });
    }
    const r = await playbook(dir, env, 'rollout.yml', await inventory(dir, hosts), {
      initrd_wizard_become: false,
      initrd_wizard_serial: 2,
      initrd_wizard_max_fail_percentage: 50,
      initrd_wizard_build: false,
    });
    t.diagnostic(`rollout.yml: ${r.ms} ms`);
    assert.equal(r.code, 2, `ansible-playbook exits 2 when a host failed\n${r.out}`);

    // The batches, as the playbook announces them, and as the calls happened: no call of a batch
    // starts before every call of the batch before it has ended.
    const batches = [...r.out.matchAll(/initrd-wizard rollout batch: ([^"]+)"/g)].map((m) => m[1]!.split(' '));
    assert.deepEqual(batches, [['ok-1', 'no-kernel'], ['ok-2', 'multipath'], ['ok-3', 'linked-conf'], ['ok-4', 'earlier']], r.out);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    const hostOf = (l: string) => l.split(' ')[0]!;
    for (let b = 1; b < batches.length; b++) {
      const firstOfThis = calls.findIndex((l) => batches[b]!.includes(hostOf(l)));
      const lastOfPrev = calls.reduce((last, l, i) => (batches[b - 1]!.includes(hostOf(l)) ? i : last), -1);
      assert.ok(lastOfPrev < firstOfThis, `batch ${b + 1} starts after batch ${b} ended:\n${calls.join('\n')}`);
    }
    const ran = (host: string, cmd: string) => calls.filter((l) => l.startsWith(`${host} end `) && l.includes(` ${cmd} `)).map((l) => Number(/rc=(\d+)/.exec(l)![1]));

    // Installed where nothing failed; revert never ran there.
    for (const h of ['ok-1', 'ok-2', 'ok-3', 'ok-4']) {
      assert.deepEqual(ran(h, 'doctor'), [0], `${h}: the gate passed`);
      assert.deepEqual(ran(h, 'install'), [0], `${h}: installed once`);
      assert.deepEqual(ran(h, 'revert'), [], `${h}: no revert`);
      assert.match(await readFile(path.join(roots.get(h)!, 'etc/kernel/install.conf'), 'utf8'), /^initrd_generator=mkosi-initrd$/m, `${h} switched`);
      assert.notEqual(await treeHash(roots.get(h)!), before.get(h), `${h} changed`);
    }
    // The failed hosts: revert where install ran, nothing where the gate stopped it; every root as it was.
    assert.deepEqual(ran('no-kernel', 'install'), [1]);
    assert.deepEqual(ran('no-kernel', 'revert'), [0], 'the host whose install failed after applying is reverted');
    assert.deepEqual(ran('linked-conf', 'install'), [1]);
    assert.deepEqual(ran('linked-conf', 'revert'), [0], 'revert runs; nothing was on record');
    assert.deepEqual(ran('multipath', 'doctor'), [3]);
    assert.deepEqual([...ran('multipath', 'install'), ...ran('multipath', 'revert')], [], 'the gate stops the host before install');
    for (const h of ['no-kernel', 'multipath', 'linked-conf', 'earlier']) assert.equal(await treeHash(roots.get(h)!), before.get(h), `${h}: root byte-identical to before`);

    assert.deepEqual(ran('earlier', 'install'), [1]);
    assert.deepEqual(ran('earlier', 'revert'), [], 'the install on record from before the rollout is not undone');

    assert.match(r.out, /Install failed on no-kernel: no kernel image for \S+ under \S+ \(next step: pass --kernel-version for an installed kernel\)\. Reverted: \/etc\/kernel\/install\.conf, /);
    assert.match(r.out, /Install failed on linked-conf: \/etc\/kernel\/install\.conf is a symlink [^\n]*\. Reverted: nothing was on record, nothing was changed\."/);
    assert.match(r.out, /storage a package-built initrd cannot bring up \(doctor exit 3\) on multipath, nothing was changed: storage: unsupported storage: multipath/);
    assert.match(r.out, /Install failed on earlier: not installing:[^\n]*has not been built and checked yet[^\n]*An install was on record before this run: not reverted, as revert would undo that one too; run `initrd-wizard revert --root \S+\/earlier` by hand/);
    const counts = recap(r.out);
    for (const h of ['ok-1', 'ok-2', 'ok-3', 'ok-4']) assert.equal(counts[h]?.failed, 0, `${h} in the recap\n${r.out}`);
    for (const h of ['no-kernel', 'multipath', 'linked-conf', 'earlier']) assert.equal(counts[h]?.failed, 1, `${h} in the recap\n${r.out}`);
    for (const h of ['no-kernel', 'linked-conf', 'earlier']) assert.equal(counts[h]?.rescued, 1, `${h}: the rescue ran`);
  } finally {
    await cleanup();
  }
});

test('rollout.yml: by default (max_fail_percentage 0) a batch with a failed host ends the rollout; serial takes a list', { skip: skipRollout, timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = await tempDir('iw-ansible-stop-');
  try {
    const env = await ansibleEnv(dir);
    const log = path.join(dir, 'calls.log');
    const plan: Array<{ name: string; tree: StartTree }> = [
      { name: 'canary', tree: 'symlinked-install-conf' },
      { name: 'rest-1', tree: 'commented-install-conf' },
      { name: 'rest-2', tree: 'no-install-conf' },
    ];
    const hosts: Host[] = [];
    const before = new Map<string, string>();
    for (const p of plan) {
      const root = path.join(dir, 'roots', p.name);
      await mkdir(root, { recursive: true });
      await makeRoot(root, p.tree);
      before.set(p.name, await treeHash(root));
      hosts.push({ name: p.name, vars: { initrd_wizard: await wrapper(dir, p.name, log), initrd_wizard_root: root, initrd_wizard_doctor_args: doctorArgs(SNAP), initrd_wizard_force: true, initrd_wizard_install_args: ['--snapshot', SNAP] } });
    }
    // A canary batch of one, then the rest together; max_fail_percentage left at its default.
    const r = await playbook(dir, env, 'rollout.yml', await inventory(dir, hosts), { initrd_wizard_become: false, initrd_wizard_build: false, initrd_wizard_serial: [1, 2] });
    t.diagnostic(`rollout.yml: ${r.ms} ms`);
    assert.equal(r.code, 2, r.out);
    assert.deepEqual([...r.out.matchAll(/initrd-wizard rollout batch: ([^"]+)"/g)].map((m) => m[1]), ['canary'], r.out);
    assert.match(r.out, /NO MORE HOSTS LEFT/);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    assert.deepEqual([...new Set(calls.map((l) => l.split(' ')[0]))], ['canary'], 'the rest of the fleet was never touched');
    for (const p of plan) assert.equal(await treeHash(path.join(dir, 'roots', p.name)), before.get(p.name), `${p.name}: as before`);
  } finally {
    await cleanup();
  }
});
