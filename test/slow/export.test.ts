/**
 * `export --format rpm-spec`, built for real: rpmbuild -bb on the exported
 * spec, whose %build runs the real mkosi-initrd (24.3 here) on the exported
 * mkosi directory (Source0: exactly what `export --format mkosi` writes).
 * That one build serves both checks: the exported directory builds with
 * mkosi-initrd (the initrd comes out and passes the checks `build` runs
 * against the snapshot's host), and the package holds it as
 * /usr/lib/modules/KVER/initrd. A build takes 1–4 minutes here.
 *
 * Then that very initrd, as a prebuilt one, through the real kernel-install
 * of trixie (systemd 257, mkosi 25.3's 50-mkosi.install) and sid (262, mkosi
 * 27.1's plugin, dracut 112's): the entry holds it byte for byte when it is
 * named on kernel-install's command line, and mkosi's plugin builds when it
 * is not (test/support/kernel-install-reuse.ts; systemd 254 runs the same
 * script in the fast tier). The chroots are the shared toolchain chroots
 * (made once, ~75 s each, by test/toolchains/make-chroot.sh).
 *
 * The second test exports and builds the spec inside those chroots, with
 * their mkosi (25.3, 27.1) and rpmbuild (4.20, 6.1): 2–4 minutes, side by side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../src/cli.js';
import { verifyImage } from '../../src/service/build.js';
import { readInitrd } from '../../src/image/cpio.js';
import { hostFs } from '../../src/system/files.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { analyze } from '../../src/host/analyze.js';
import { parseMkosiVersion } from '../../src/mkosi/version.js';
import { specNames } from '../../src/export/rpmspec.js';
import { EXPORT_EXTRA } from '../../src/export/layout.js';
import { readTar } from '../../src/host/tar.js';
import { fixture, isRoot, ROOT, tempDir } from '../helpers.js';
import { ensureChroot, inChroot, type Suite } from '../support/toolchain.js';
import { parseReuse, REUSE_SCRIPT, sha256, STUB_OUTPUT } from '../support/kernel-install-reuse.js';

const exec = promisify(execFile);
const mkosi = parseMkosiVersion(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const kver = existsSync('/usr/lib/modules') ? readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/modules.dep`) && existsSync(`/usr/lib/modules/${k}/vmlinuz`)) : undefined;
const rpmbuild = spawnSync('rpmbuild', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !isRoot ? 'needs root' : !mkosi || mkosi.major < 24 ? 'mkosi >= 24 missing (bash test/mkosi/setup-host.sh)' : !kver ? 'no installed kernel with modules and vmlinuz (bash test/mkosi/setup-host.sh)' : !rpmbuild ? 'rpmbuild missing' : false;
const SNAP = fixture('luks2-lvm-hibernate');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

const secs = (since: number) => Math.round((performance.now() - since) / 1000);

test('the exported spec builds with rpmbuild: mkosi-initrd builds the exported directory, the package holds the initrd, and kernel-install takes it as it is', { skip, timeout: 900_000 }, async () => {
  const { dir, cleanup } = await tempDir('iw-export-slow-');
  const started = performance.now();
  try {
    const out = path.join(dir, 'spec');
    const r = await cli('export', '--format', 'rpm-spec', '--kernel-version', kver!, '--snapshot', SNAP, '--output', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const names = specNames(kver!);

    // The one build: rpmbuild runs %build, which runs mkosi-initrd on the exported directory.
    const top = path.join(dir, 'top');
    const built = performance.now();
    const log = await exec('rpmbuild', ['--define', `_sourcedir ${out}`, '--define', `_topdir ${top}`, '-bb', path.join(out, names.spec)], { maxBuffer: 256 << 20, timeout: 1_200_000 }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`rpmbuild failed:\n${`${e.stdout ?? ''}\n${e.stderr ?? ''}`.slice(-6000)}`);
    });
    process.stderr.write(`# rpmbuild -bb (mkosi-initrd ${mkosi!.version} for ${kver}) took ${secs(built)} s\n`);
    assert.match(log.stdout + log.stderr, /exec mkosi-initrd "\$@"/, '%build ran mkosi-initrd');

    const rpmDir = path.join(top, 'RPMS');
    const arch = readdirSync(rpmDir)[0]!;
    const rpm = path.join(rpmDir, arch, readdirSync(path.join(rpmDir, arch)).find((f) => f.endsWith('.rpm'))!);
    const files = (await exec('rpm', ['-qlp', rpm])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(files, [`/usr/lib/modules/${kver}/initrd`], 'the package holds the initrd, and only it');
    assert.match((await exec('rpm', ['-qp', '--scripts', rpm])).stdout, new RegExp(`kernel-install add ${kver!.replace(/[.+]/g, '\\$&')} "\\$k" /usr/lib/modules/\\S+/initrd`), '%posttrans names it to kernel-install');

    // The initrd out of the package: what `build` checks against the snapshot's host passes.
    const tree = path.join(dir, 'tree');
    await mkdir(tree);
    await exec('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet', 'sh', rpm], { cwd: tree, maxBuffer: 64 << 20 });
    const initrdFile = path.join(tree, `usr/lib/modules/${kver}/initrd`);
    const initrd = await readFile(initrdFile);
    const report = analyze(await loadSnapshot(SNAP));
    const verified = await verifyImage(initrdFile, report, hostFs('/'), kver!);
    assert.ok(verified.ok, verified.checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail}`).join('\n'));
    // Built from the exported directory: the files it carries are in the image as exported.
    const image = await readInitrd(initrd);
    const exported = readTar(await readFile(path.join(out, names.tarball)), 10_000).filter((e) => e.type === 'file' && e.name.startsWith(`${names.top}/${EXPORT_EXTRA}/`));
    assert.ok(exported.length > 0, 'the export carries files');
    for (const e of exported) {
      const inImage = e.name.slice(`${names.top}/${EXPORT_EXTRA}/`.length);
      assert.deepEqual(image.read(inImage), e.data, `${inImage} in the initrd as exported`);
    }
    assert.ok(image.entries.has('usr/sbin/lvm'), 'with the variant\'s lvm2');

    // That initrd as the prebuilt one, through the real kernel-install of trixie and sid.
    const suites: Suite[] = ['trixie', 'sid'];
    const results = await Promise.all(
      suites.map(async (suite) => {
        const chroot = await ensureChroot(suite);
        const work = path.join(dir, `ki-${suite}`);
        await mkdir(work);
        await writeFile(path.join(work, 'prebuilt'), initrd);
        const run = await inChroot(chroot, ['sh', '-c', REUSE_SCRIPT, 'reuse', '/proj', '25'], { project: work, timeoutMs: 300_000 });
        assert.equal(run.code, 0, `${suite}: ${run.stdout}\n${run.stderr}`);
        return [suite, parseReuse(run.stdout)] as const;
      }),
    );
    for (const [suite, res] of results) {
      assert.match(res.systemd, suite === 'trixie' ? /^systemd 257/ : /^systemd 26\d/, `${suite}: ${res.systemd}`);
      assert.equal(res.cases['not-passed'], sha256(STUB_OUTPUT), `${suite}: not named, the initrd beside the kernel is ignored and mkosi's plugin builds`);
      assert.equal(res.cases.passed, sha256(initrd), `${suite}: named, the entry holds the packaged initrd byte for byte and mkosi's plugin builds nothing`);
      assert.equal(res.entries.filter((e) => e.startsWith('passed')).length, 1, `${suite}: one initrd in the entry`);
      // sid has dracut: its plugin is the one that reuses /usr/lib/modules/KVER/initrd by itself.
      if (suite === 'sid') assert.equal(res.cases.dracut, sha256(initrd), 'sid: with initrd_generator=dracut, dracut\'s plugin takes the file beside the kernel');
    }
    process.stderr.write(`# export slow test took ${secs(started)} s in all\n`);
  } finally {
    await cleanup();
  }
});

/**
 * The same spec exported and built where Fedora's toolchain versions live:
 * trixie (mkosi 25.3, rpm 4.20) with the snapshot's loaded modules through
 * the spec's wrapper, and sid (mkosi 27.1, rpm 6) with --generic, which from
 * mkosi 26 on is mkosi-initrd's own option and needs no wrapper. Each runs
 * initrd-wizard inside its chroot, so the drop-in is rendered for that mkosi;
 * the host's mkosi 24.3 build above proves the other branch.
 */
test('on trixie and sid, the spec exported there builds with rpmbuild into a package holding the initrd (mkosi 25.3 with the loaded modules, 27.1 with --generic)', { skip: isRoot ? false : 'needs root (chroot, mounts)', timeout: 1_500_000 }, async () => {
  const SNAP_IN = 'test/fixtures/snapshots/trixie-luks2-lvm-hibernate';
  const cases = [
    { suite: 'trixie' as Suite, mkosi: /^mkosi 25\./, generic: false },
    { suite: 'sid' as Suite, mkosi: /^mkosi 27\./, generic: true },
  ];
  const started = performance.now();
  await Promise.all(
    cases.map(async ({ suite, mkosi: wanted, generic }) => {
      const chroot = await ensureChroot(suite);
      const work = `/var/tmp/iw-export-${process.pid}`;
      const host = path.join(chroot, work);
      const run = async (argv: string[], timeoutMs = 120_000) => {
        const r = await inChroot(chroot, argv, { timeoutMs });
        assert.equal(r.code, 0, `${suite}: ${argv.join(' ')}\n${`${r.stdout}\n${r.stderr}`.slice(-6000)}`);
        return r.stdout;
      };
      // The chroots have no lvm2 installed, so no /etc/lvm: one lvm.conf for the export to carry, removed afterwards.
      const lvmDir = path.join(chroot, 'etc/lvm');
      assert.ok(!existsSync(lvmDir), `${suite}: the chroot has no /etc/lvm of its own`);
      try {
        await mkdir(lvmDir);
        await writeFile(path.join(lvmDir, 'lvm.conf'), `# initrd-wizard export test (${suite})\ndevices {\n}\n`);
        await mkdir(host, { recursive: true });
        assert.match(await run(['mkosi', '--version']), wanted, suite);
        const kver = readdirSync(path.join(chroot, 'usr/lib/modules')).find((k) => existsSync(path.join(chroot, 'usr/lib/modules', k, 'modules.dep')))!;
        assert.ok(kver, `${suite}: a kernel with modules in the chroot`);
        const out = `${work}/spec`;
        const names = specNames(kver);
        await run(['node', 'dist/bin/initrd-wizard.js', 'export', '--format', 'rpm-spec', '--kernel-version', kver, '--snapshot', SNAP_IN, ...(generic ? ['--generic'] : []), '--output', out]);
        const spec = await readFile(path.join(host, 'spec', names.spec), 'utf8');
        assert.match(spec, new RegExp(`^%global mkosi_major ${generic ? 27 : 25}$`, 'm'), `${suite}: rendered for the chroot's mkosi`);
        assert.equal(/^Source2:/m.test(spec), !generic, `${suite}: the module wrapper only where the loaded modules are kept`);

        const built = performance.now();
        const log = await run(['sh', '-c', 'rpmbuild "$@" 2>&1', 'sh', '--define', `_sourcedir ${out}`, '--define', `_topdir ${work}/top`, '-bb', `${out}/${names.spec}`], 1_200_000);
        // %build runs under set -x: what it handed mkosi-initrd shows.
        assert.match(log, generic ? /^\+ set -- .*--generic$/m : /^\+ install -m 0755 \S+-mkosi-wrapper wrap\/mkosi$/m, `${suite}: ${generic ? 'mkosi-initrd --generic' : 'the module wrapper first on PATH'}`);
        process.stderr.write(`# ${suite}: rpmbuild -bb of the exported spec took ${secs(built)} s\n`);
        const rpm = (await run(['sh', '-c', 'ls "$1"/top/RPMS/*/*.rpm', 'sh', work])).trim();
        assert.deepEqual((await run(['rpm', '-qlp', rpm])).split('\n').filter(Boolean), [`/usr/lib/modules/${kver}/initrd`], `${suite}: the package holds the initrd, and only it`);
        await run(['sh', '-c', 'mkdir -p "$1/tree" && cd "$1/tree" && rpm2cpio "$2" | cpio -idm --quiet', 'sh', work, rpm]);

        const image = await readInitrd(await readFile(path.join(host, 'tree/usr/lib/modules', kver, 'initrd')));
        assert.ok(image.entries.has('init') && image.entries.has('etc/initrd-release'), `${suite}: a systemd initrd`);
        assert.ok(image.entries.has('usr/sbin/lvm') && image.entries.has('usr/lib/systemd/systemd-cryptsetup'), `${suite}: with the variant's lvm2 and systemd-cryptsetup`);
        // The exporting machine's lvm.conf travels in mkosi.extra/, and mkosi 25 and 27 put it into the image as exported.
        const exported = readTar(await readFile(path.join(host, 'spec', names.tarball)), 10_000).filter((e) => e.type === 'file' && e.name.startsWith(`${names.top}/${EXPORT_EXTRA}/`));
        assert.deepEqual(exported.map((e) => e.name.slice(`${names.top}/${EXPORT_EXTRA}/`.length)), ['etc/lvm/lvm.conf'], `${suite}: what the export carries`);
        for (const e of exported) {
          const inImage = e.name.slice(`${names.top}/${EXPORT_EXTRA}/`.length);
          assert.deepEqual(image.read(inImage), e.data, `${suite}: ${inImage} in the initrd as exported`);
        }
        const modules = [...image.entries.keys()].filter((k) => k.startsWith(`usr/lib/modules/${kver}/`) && /\.ko(\.xz|\.zst)?$/.test(k)).map((k) => path.basename(k).replace(/\.ko(\.xz|\.zst)?$/, ''));
        assert.ok(modules.includes('dm-crypt'), `${suite}: dm-crypt among ${modules.length} modules`);
        // This machine has no /proc/modules: the build got past mkosi's host-only module selection on
        // trixie through the spec's wrapper (the snapshot's list), and on sid because --generic skips it.
        const dep = await readFile(path.join(chroot, 'usr/lib/modules', kver, 'modules.dep'), 'utf8');
        const inKernel = new Set([...dep.matchAll(/^\S*\/([^/\s]+?)\.ko(?:\.xz|\.zst)?:/gm)].map((m) => m[1]!.replace(/-/g, '_')));
        const loaded = (await readFile(path.join(ROOT, SNAP_IN, 'modules'), 'utf8')).split('\n').map((l) => l.split(' ')[0]!).filter((m) => inKernel.has(m));
        const have = new Set(modules.map((m) => m.replace(/-/g, '_')));
        const missing = loaded.filter((m) => !have.has(m));
        if (!generic) assert.deepEqual(missing, [], `${suite}: every module the snapshot's machine loaded is in the image`);
        process.stderr.write(`# ${suite}: ${modules.length} modules in the image\n`);
      } finally {
        await exec('rm', ['-rf', '--one-file-system', host, lvmDir]);
      }
    }),
  );
  process.stderr.write(`# trixie and sid spec builds took ${secs(started)} s in all\n`);
});
