/**
 * `initrd-wizard export`: the directory holds the drop-in `build` renders
 * (its trees carried in mkosi.extra/, no host path left in it) and real mkosi
 * reads it; the spec parses in rpm and its sources are the same directory;
 * every refusal exits 2 with a next step and writes nothing; the output
 * appears whole or not at all. And the fact the spec is built on: this
 * machine's kernel-install (systemd 254) puts a prebuilt initrd into the
 * entry only when it is named, byte for byte (the slow tier runs the same on
 * 257 and 262).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../src/cli.js';
import { pipeline, mkosiInfo } from '../../src/service/pipeline.js';
import { hostConfig } from '../../src/service/variant-config.js';
import { EXPORT_DROP_IN, EXPORT_EXTRA } from '../../src/export/layout.js';
import { checkKernelVersion, renderSpec, specNames } from '../../src/export/rpmspec.js';
import { writeExportDirectory } from '../../src/export/write.js';
import { readTar } from '../../src/host/tar.js';
import { parseMkosiVersion } from '../../src/mkosi/version.js';
import { InputError } from '../../src/errors.js';
import { fixture, isRoot, ROOT, tempDir } from '../helpers.js';
import { parseReuse, REUSE_SCRIPT, sha256, STUB_OUTPUT } from '../support/kernel-install-reuse.js';

const exec = promisify(execFile);
const mkosi = parseMkosiVersion(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const skip = !mkosi || mkosi.major < 24 ? 'mkosi >= 24 is not installed (bash test/mkosi/setup-host.sh)' : false;
const SNAP = fixture('luks2-lvm-hibernate');
const KVER = '6.1.0-57-amd64';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

/** Every file under a directory, relative, sorted. */
async function listTree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listTree(dir, p)));
    else out.push(p);
  }
  return out.sort();
}

const settings = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

test('export --format mkosi: the drop-in build renders, its trees carried in mkosi.extra/, read by real mkosi', { skip }, async () => {
  const { dir, cleanup } = await tempDir('iw-export-');
  try {
    const out = path.join(dir, 'variant');
    const r = await cli('export', '--format', 'mkosi', '--output', out, '--snapshot', SNAP, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { files: string[]; modules: string; mkosiVersion: string; packages: string[] };
    assert.deepEqual(doc.files, await listTree(out), 'the JSON lists exactly what was written');
    assert.equal(doc.modules, 'snapshot');

    // The same drop-in `build` renders for this snapshot, less the ExtraTrees= lines naming host paths.
    const state = await pipeline({ snapshot: SNAP });
    const mk = (await mkosiInfo(state))!;
    const built = (await hostConfig(state, mk)).config;
    const exported = await readFile(path.join(out, EXPORT_DROP_IN), 'utf8');
    const withoutTrees = (text: string) => {
      const lines = settings(text);
      const out: string[] = [];
      let inTrees = false;
      for (const l of lines) {
        if (/^ExtraTrees=/.test(l)) inTrees = true;
        else if (!/^\s/.test(l)) inTrees = false;
        if (!inTrees) out.push(l);
      }
      return out;
    };
    assert.deepEqual(settings(exported), withoutTrees(built.text), 'every other setting as build writes it');
    assert.doesNotMatch(exported, /^ExtraTrees=/m, 'no host path in the exported drop-in');
    assert.ok(built.trees.length > 0, 'the fixture carries files (crypttab for mkosi 24, lvm.conf)');
    // Each tree's files are in mkosi.extra/ at their image path: the generated crypttab byte for byte.
    const crypttab = [...built.files.entries()].find(([p]) => p.endsWith('/etc/crypttab'));
    if (crypttab) assert.equal(await readFile(path.join(out, EXPORT_EXTRA, 'etc/crypttab'), 'utf8'), crypttab[1]);
    for (const t of built.trees.filter((t) => !t.source.startsWith('/etc/mkosi-initrd/'))) {
      if (existsSync(t.source) && !(await import('node:fs')).statSync(t.source).isDirectory()) {
        assert.deepEqual(await readFile(path.join(out, EXPORT_EXTRA, t.target)), await readFile(t.source), `${t.source} carried as ${t.target}`);
      }
    }

    // Real mkosi reads it on top of its own mkosi-initrd configuration, as the README says.
    const summary = JSON.parse(execFileSync('mkosi', ['--directory', '', '--include=mkosi-initrd', `--include=${out}`, '--json', 'summary'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { Images: Array<{ Packages: string[]; ExtraTrees: Array<{ Source: string }>; SourceDateEpoch: number }> };
    const image = summary.Images[0]!;
    for (const p of doc.packages) assert.ok(image.Packages.includes(p), `${p} reaches mkosi`);
    assert.ok(image.ExtraTrees.some((t) => t.Source === path.join(out, EXPORT_EXTRA)), 'mkosi adds mkosi.extra/ beside the drop-in as an extra tree');

    const readme = await readFile(path.join(out, 'README.md'), 'utf8');
    assert.match(readme, /mkosi-initrd --kernel-version KVER -O /);
    // Host files build --snapshot carries come from this machine, not the snapshot's: the README says so.
    const fromHere = built.trees.filter((t) => t.source.startsWith('/etc/') && !t.source.startsWith('/etc/mkosi-initrd/')).map((t) => t.target);
    if (fromHere.length) assert.ok(readme.includes(`${fromHere.join(', ')} in mkosi.extra/ ${fromHere.length === 1 ? 'is' : 'are'} the exporting machine's own`), readme);
    assert.match(readme, /cp -r mkosi\.conf\.d\/50-initrd-wizard-export \/etc\/mkosi-initrd\/mkosi\.conf\.d\//);
    assert.doesNotMatch(readme, /^mkosi-initrd .*--include/m, 'never a flag mkosi-initrd does not have');
    assert.match(r.stderr, /^$|warning:/, 'nothing but warnings on stderr');
  } finally {
    await cleanup();
  }
});

test('every command the exported README shows exists in this mkosi-initrd and mkosi', { skip }, async () => {
  const { dir, cleanup } = await tempDir('iw-export-');
  try {
    const out = path.join(dir, 'v');
    assert.equal((await cli('export', '--format', 'mkosi', '--output', out, '--snapshot', SNAP)).code, 0);
    const readme = await readFile(path.join(out, 'README.md'), 'utf8');
    const help = { 'mkosi-initrd': execFileSync('mkosi-initrd', ['--help'], { encoding: 'utf8' }), mkosi: execFileSync('mkosi', ['--help'], { encoding: 'utf8' }) };
    // The commands in its shell blocks.
    const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).join('');
    const shown = [...blocks.matchAll(/^(mkosi(?:-initrd)?) (.*)$/gm)];
    assert.ok(shown.length >= 2);
    for (const [, tool, rest] of shown) {
      for (const flag of rest!.match(/--?[a-z][a-z-]*/g) ?? []) {
        const long = flag.split('=')[0]!;
        assert.ok(help[tool as keyof typeof help].includes(long), `${tool} ${long} is in ${tool} --help`);
      }
    }
  } finally {
    await cleanup();
  }
});

test('export --format rpm-spec: a spec rpm parses, whose sources are the mkosi export', { skip }, async () => {
  const { dir, cleanup } = await tempDir('iw-export-');
  try {
    const out = path.join(dir, 'spec');
    const r = await cli('export', '--format', 'rpm-spec', '--kernel-version', KVER, '--output', out, '--snapshot', SNAP, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { spec: string; package: string; initrd: string; files: string[] };
    const names = specNames(KVER);
    assert.equal(doc.spec, names.spec);
    assert.equal(doc.initrd, `/usr/lib/modules/${KVER}/initrd`);
    assert.deepEqual([...doc.files].sort(), [names.spec, names.tarball, names.modulesList, names.wrapper].sort());
    // The wrapper is initrd-wizard's own; the module list the snapshot's.
    assert.deepEqual(await readFile(path.join(out, names.wrapper)), await readFile(path.join(ROOT, 'libexec/target-modules/mkosi')));
    assert.equal(await readFile(path.join(out, names.modulesList), 'utf8'), await readFile(path.join(SNAP, 'modules'), 'utf8'));

    // Source0 is exactly what --format mkosi writes, under one top directory.
    const plain = path.join(dir, 'plain');
    assert.equal((await cli('export', '--format', 'mkosi', '--output', plain, '--snapshot', SNAP)).code, 0);
    const entries = readTar(await readFile(path.join(out, names.tarball)), 10_000);
    const files = entries.filter((e) => e.type === 'file');
    assert.deepEqual(files.map((e) => e.name).sort(), (await listTree(plain)).map((f) => `${names.top}/${f}`));
    for (const e of files) assert.deepEqual(e.data, await readFile(path.join(plain, e.name.slice(names.top.length + 1))), e.name);

    if (spawnSync('rpmspec', ['--version']).status === 0) {
      const parsed = execFileSync('rpmspec', ['--define', `_sourcedir ${out}`, '-P', path.join(out, names.spec)], { encoding: 'utf8' });
      const sources = [...parsed.matchAll(/^Source\d+:\s+(\S+)$/gm)].map((m) => m[1]!);
      assert.deepEqual(sources.sort(), [names.tarball, names.modulesList, names.wrapper].sort(), 'every source the spec names is in the directory, and nothing else');
      assert.match(parsed, new RegExp(`^install -D -m 0644 out/initrd \\S*/usr/lib/modules/${KVER.replace(/[.]/g, '\\.')}/initrd$`, 'm'));
      assert.match(parsed, new RegExp(`kernel-install add ${KVER.replace(/[.]/g, '\\.')} "\\$k" /usr/lib/modules/${KVER.replace(/[.]/g, '\\.')}/initrd`));
      assert.doesNotMatch(parsed, /%\{kver\}/, 'every macro expands');
      const name = execFileSync('rpmspec', ['-q', '--qf', '%{name}\\n', path.join(out, names.spec)], { encoding: 'utf8' }).trim();
      assert.equal(name, doc.package);
    }
  } finally {
    await cleanup();
  }
});

test('the spec selects modules the way the builder\'s mkosi can: --generic from 26, initrd-wizard\'s wrapper before', () => {
  const base = { toolId: 'initrd-wizard test', kernelVersion: KVER, rpmArch: 'x86_64', mkosiVersion: '26', distro: 'fedora 44', profiles: ['base'] };
  const g26 = renderSpec({ ...base, mkosiMajor: 26, modules: 'generic' });
  assert.match(g26, /^set -- "\$@" --generic$/m);
  assert.doesNotMatch(g26, /^Source[12]:/m);
  assert.match(g26, /--kernel-image "\$k"/, 'mkosi 25 and later get the kernel image, as their plugin passes it');
  const g24 = renderSpec({ ...base, mkosiVersion: '24.3', mkosiMajor: 24, modules: 'generic' });
  assert.doesNotMatch(g24, /--generic"?$/m, 'mkosi-initrd 24 has no --generic');
  assert.doesNotMatch(g24, /--kernel-image/, 'nor --kernel-image');
  assert.match(g24, /^Source1: +initrd-%\{kver\}-modules$/m);
  assert.match(g24, /^Source2: +initrd-%\{kver\}-mkosi-wrapper$/m);
  const s26 = renderSpec({ ...base, mkosiMajor: 26, modules: 'snapshot' });
  assert.match(s26, /^Source2:/m, 'a snapshot\'s modules go through the wrapper on any version');
  // rpm expands macros in comments: every % in them is doubled.
  for (const l of g26.split('\n').filter((l) => l.startsWith('#'))) assert.doesNotMatch(l, /(^|[^%])%([^%]|$)/, l);
});

test('a kernel version that could not go into a spec, a path and a shell line is refused', () => {
  for (const bad of ['', '../../etc', '.hidden', '-rf', '6.1 0', '6.1;rm -rf /', '$(id)', '`id`', '6.1/../x', 'a~b', '6.1\n0', 'x'.repeat(129), 'ä']) {
    assert.throws(() => checkKernelVersion(bad), InputError, JSON.stringify(bad));
  }
  for (const good of ['6.1.0-57-amd64', '6.11.4-301.fc41.x86_64', '6.12.0+rpt-rpi-v8', '5.14.0-427.el9_4.x86_64']) checkKernelVersion(good);
});

test('refusals exit 2 (3 for storage a package-built initrd cannot bring up) with a next step and write nothing', { skip }, async () => {
  const { dir, cleanup } = await tempDir('iw-export-');
  try {
    const before = async () => (await readdir(dir)).sort();
    const full = path.join(dir, 'full');
    await mkdir(full);
    await writeFile(path.join(full, 'keep'), 'mine\n');
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    const link = path.join(dir, 'link');
    await mkdir(path.join(dir, 'target'));
    await symlink(path.join(dir, 'target'), link);
    const listing = await before();
    const cases: Array<[string[], RegExp]> = [
      [['--format', 'mkosi', '--output', full], /exists and is not empty/],
      [['--format', 'mkosi', '--output', file], /exists and is not a directory/],
      [['--format', 'mkosi', '--output', link], /exists and is not a directory/],
      [['--format', 'mkosi', '--output', path.join(dir, 'no/such/parent')], /does not exist/],
      [['--format', 'rpm-spec', '--output', path.join(dir, 'new')], /--format rpm-spec needs --kernel-version/],
      [['--format', 'rpm-spec', '--kernel-version', '../../etc', '--output', path.join(dir, 'new')], /cannot be the kernel version of a spec/],
      [['--format', 'rpm-spec', '--kernel-version', '6.1;reboot', '--output', path.join(dir, 'new')], /cannot be the kernel version of a spec/],
      [['--format', 'rpm', '--output', path.join(dir, 'new')], /argument 'rpm' is invalid/],
      [['--output', path.join(dir, 'new')], /required option '--format <format>' not specified/],
      [['--format', 'mkosi'], /required option '-o, --output <dir>' not specified/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('export', ...args, '--snapshot', SNAP);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      if (!/required option|invalid/.test(message.source)) assert.match(r.stderr, /next step: /, `${args.join(' ')} says what to do`);
    }
    // Storage a package-built initrd cannot bring up is never exported: exit 3, as detect and suggest say it.
    const iscsi = await cli('export', '--format', 'mkosi', '--output', path.join(dir, 'new'), '--snapshot', fixture('iscsi'));
    assert.equal(iscsi.code, 3, iscsi.stderr);
    assert.match(iscsi.stderr, /cannot bring up \(iscsi on sda\): nothing exported/);
    assert.match(iscsi.stderr, /next step: /);
    assert.deepEqual(await before(), listing, 'nothing written beside them');
    assert.deepEqual(await readdir(full), ['keep'], 'the non-empty directory untouched');
    assert.deepEqual(await readdir(path.join(dir, 'target')), [], 'nothing written through the link');
  } finally {
    await cleanup();
  }
});

test('on a machine without /proc/modules a live rpm-spec export asks for --snapshot or --generic', { skip: skip || (existsSync('/proc/modules') && 'this kernel has /proc/modules') }, async () => {
  const { dir, cleanup } = await tempDir('iw-export-');
  try {
    const r = await cli('export', '--format', 'rpm-spec', '--kernel-version', KVER, '--output', path.join(dir, 'o'));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no \/proc\/modules/);
    assert.match(r.stderr, /next step: pass --snapshot .* or --generic/);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await cleanup();
  }
});

test('the output appears whole or not at all: a failed write leaves no directory and no temporary one', async () => {
  const { dir, cleanup } = await tempDir('iw-export-');
  try {
    const out = path.join(dir, 'out');
    // The second file cannot be created under the first (a file is not a directory): the write fails half way.
    await assert.rejects(writeExportDirectory(out, [['a', 'one'], ['a/b', 'two']]));
    assert.deepEqual(await readdir(dir), [], 'no output and no leftover temporary directory');
    // An empty directory is taken; the result is complete and readable by others (a build may run as another user).
    await mkdir(out);
    await writeExportDirectory(out, [['README.md', 'hi\n'], ['d/e/f', 'x']]);
    assert.deepEqual(await listTree(out), ['README.md', 'd/e/f']);
    assert.equal((await import('node:fs')).statSync(out).mode & 0o777, 0o755);
    assert.deepEqual(await readdir(dir), ['out']);
    // A second export over it is refused, and the first stays as it was.
    await assert.rejects(writeExportDirectory(out, [['README.md', 'other\n']]), /exists and is not empty/);
    assert.equal(await readFile(path.join(out, 'README.md'), 'utf8'), 'hi\n');
    // A name that would leave the directory is never written.
    await assert.rejects(writeExportDirectory(path.join(dir, 'o2'), [['../escape', 'x']]), /not a file name inside/);
    assert.ok(!existsSync(path.join(dir, 'escape')) && !existsSync(path.join(dir, 'o2')));
  } finally {
    await cleanup();
  }
});

test('kernel-install (systemd 254 here) reuses a prebuilt initrd only when it is named, byte for byte', { skip: !isRoot ? 'needs root (a private mount namespace)' : spawnSync('kernel-install', ['--version']).status !== 0 ? 'kernel-install missing' : false }, async () => {
  const { dir, cleanup } = await tempDir('iw-ki-');
  try {
    const prebuilt = Buffer.from(`a prebuilt initrd ${Date.now()}\n`.repeat(100));
    await writeFile(path.join(dir, 'prebuilt'), prebuilt);
    // Debian's mkosi 24.3 ships no plugin: initrd-wizard's own is the one install uses with it.
    const plugins = [path.join(ROOT, 'libexec/50-mkosi-initrd.install'), ...['55-initrd.install', '90-loaderentry.install'].map((p) => `/usr/lib/kernel/install.d/${p}`).filter(existsSync)];
    const { stdout } = await exec('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', REUSE_SCRIPT, 'reuse', dir, '24'], { env: { ...process.env, KERNEL_INSTALL_PLUGINS: plugins.join(' ') } });
    const r = parseReuse(stdout);
    assert.match(r.systemd, /^systemd \d+/);
    assert.equal(r.cases['not-passed'], sha256(STUB_OUTPUT), 'not named: the file beside the kernel is ignored and mkosi-initrd builds');
    assert.equal(r.cases.passed, sha256(prebuilt), 'named: the entry holds the prebuilt initrd byte for byte, and mkosi-initrd did not run');
    assert.deepEqual(r.entries.filter((e) => e.startsWith('passed')).length, 1, 'one initrd in the entry');
  } finally {
    await cleanup();
  }
});
