/**
 * The product on the three toolchains people run (shared/docs/toolchains.md):
 * Debian 12 + bookworm-backports (mkosi 24.3, systemd 254) is this machine;
 * trixie (mkosi 25.3, systemd 257) and sid (mkosi 27.1, systemd 262) are
 * chroots, with the product running inside them as it would on such a host.
 * For each: detection and suggestion on a snapshot, every profile's package
 * names installable on that release, the closure from that release's own
 * apt, a real mkosi-initrd build whose installed packages equal the preview,
 * the image checks, and boots of ext4, LUKS2 and LVM roots with that
 * release's kernel (and the LUKS negative control).
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { bootTest, makeBootDisk, withTempDir, type DiskShape } from '../../src/image/boottest.js';
import { systemRunner } from '../../src/system/run.js';
import { readInitrd } from '../../src/image/cpio.js';
import { findSection, readPe, sectionData } from '../../src/image/pe.js';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { SOURCE_DATE_EPOCH } from '../../src/mkosi/render.js';
import type { ReproducibleJson } from '../../src/service/reproducible.js';
import { loadProfiles, pick } from '../../src/variant/profiles.js';
import { parseMkosiVersion } from '../../src/mkosi/version.js';
import { isRoot, CLI, ROOT } from '../helpers.js';
import { ensureChroot, inChroot, type ChrootRun } from '../support/toolchain.js';

const exec = promisify(execFile);
const DEBIAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const qemu = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;
const hostMkosi = parseMkosiVersion(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const skip = !isRoot ? 'needs root' : !qemu ? 'qemu-system-x86_64 missing' : !hostMkosi || hostMkosi.major < 24 ? 'mkosi >= 24 missing (bash test/mkosi/setup-host.sh)' : false;

interface Toolchain {
  name: 'bookworm' | 'trixie' | 'sid';
  /** A host of that generation: captured with the bookworm or the trixie userland (kernel 6.1 / 6.12). */
  fixture: string;
  mkosi: RegExp;
  distro: { id: string; version: string; family: 'debian'; codename: string };
}

const TOOLCHAINS: Toolchain[] = [
  { name: 'bookworm', fixture: 'luks2-lvm-hibernate', mkosi: /^24\./, distro: { id: 'debian', version: '12', family: 'debian', codename: 'bookworm' } },
  { name: 'trixie', fixture: 'trixie-luks2-lvm-hibernate', mkosi: /^25\./, distro: { id: 'debian', version: '13', family: 'debian', codename: 'trixie' } },
  { name: 'sid', fixture: 'trixie-luks2-lvm-hibernate', mkosi: /^2[7-9]\./, distro: { id: 'debian', version: '', family: 'debian', codename: 'forky' } },
];

// IW_TOOLCHAINS=bookworm,sid runs only those (while working on one of them).
const only = process.env.IW_TOOLCHAINS?.split(',');
for (const tc of TOOLCHAINS.filter((t) => !only || only.includes(t.name))) {
  const FIXTURE = tc.fixture;
  describe(`toolchain ${tc.name}`, { skip, concurrency: 1 }, () => {
    let root = '/';
    let kver = '';
    let kernel = '';
    let image = '';
    /** The product's CLI as a user of that release runs it. */
    const cli = async (args: string[]): Promise<ChrootRun> => {
      // Debian's own PATH: this machine's pyenv python3 would stand in for Debian's under ukify's `#!/usr/bin/env python3`.
      if (root === '/') return exec(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20, env: { ...process.env, PATH: DEBIAN_PATH } }).then((r) => ({ code: 0, ...r }), (e) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
      return inChroot(root, ['node', 'dist/bin/initrd-wizard.js', ...args]);
    };
    const inside = (argv: string[]) => (root === '/' ? exec(argv[0]!, argv.slice(1), { maxBuffer: 64 << 20 }).then((r) => ({ code: 0, ...r }), (e) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' })) : inChroot(root, argv));

    before(async () => {
      if (tc.name !== 'bookworm') root = await ensureChroot(tc.name);
      const modules = path.join(root, 'usr/lib/modules');
      kver = readdirSync(modules).find((k) => existsSync(path.join(modules, k, 'modules.dep'))) ?? '';
      kernel = [path.join(modules, kver, 'vmlinuz'), path.join(root, 'boot', `vmlinuz-${kver}`)].find((p) => existsSync(p)) ?? '';
      assert.ok(kver && kernel, `a kernel with modules in ${root}`);
      image = path.join(root, 'var/tmp', `iw-toolchain-${tc.name}.cpio.zst`);
    });

    test('runs the mkosi version users of this release have', async () => {
      const v = parseMkosiVersion((await inside(['mkosi', '--version'])).stdout);
      assert.match(v?.version ?? '', tc.mkosi);
    });

    test('detects the snapshot and suggests LUKS, LVM and hibernation profiles', async () => {
      const r = await cli(['suggest', '--snapshot', `test/fixtures/snapshots/${FIXTURE}`, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const v = JSON.parse(r.stdout) as { variant?: { profiles: string[] }; profiles?: string[] };
      const profiles = v.variant?.profiles ?? v.profiles ?? [];
      for (const p of ['luks', 'lvm', 'hibernate']) assert.ok(profiles.includes(p), `${p} in ${profiles.join(' ')}`);
    });

    test("every package name any profile gives for this release installs from an empty status against the release's own lists", async () => {
      const names = new Set<string>();
      for (const p of (await loadProfiles()).values()) for (const n of pick(p.packages, tc.distro)) names.add(n);
      assert.ok(names.size >= 8, [...names].join(' '));
      const r = await inside(['apt-get', '-s', '-o', 'Dir::State::status=/dev/null', '-o', 'APT::Install-Recommends=false', 'install', ...names]);
      assert.equal(r.code, 0, `${r.stdout.slice(-2000)}\n${r.stderr}`);
    });

    test("preview = build: the packages the real mkosi-initrd build installs are exactly the closure's", { timeout: 1_800_000 }, async () => {
      const preview = await cli(['closure', '--snapshot', `test/fixtures/snapshots/${FIXTURE}`, '--json']);
      assert.equal(preview.code, 0, preview.stderr);
      const previewed = (JSON.parse(preview.stdout) as { packages: Array<{ name: string }> }).packages.map((p) => p.name).sort();
      const out = root === '/' ? image : image.slice(root.length);
      const r = await cli(['build', '--snapshot', `test/fixtures/snapshots/${FIXTURE}`, '--kernel-version', kver, '-o', out, '--json']);
      assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
      const built = JSON.parse(r.stdout) as { ok: boolean; mkosiVersion: string; modules: string; packages: { equal: boolean; previewed: number; built: number; onlyPreviewed: string[]; onlyBuilt: string[] }; checks: Array<{ id: string; ok: boolean }> };
      assert.match(built.mkosiVersion, tc.mkosi);
      assert.equal(built.modules, 'snapshot', 'the snapshot machine\'s modules, not the builder\'s');
      assert.ok(built.packages, 'the build log was compared with the preview');
      assert.deepEqual({ onlyPreviewed: built.packages.onlyPreviewed, onlyBuilt: built.packages.onlyBuilt }, { onlyPreviewed: [], onlyBuilt: [] });
      assert.equal(built.packages.built, previewed.length, 'the closure command shows the same count as the build installed');
      assert.ok(built.ok, JSON.stringify(built.checks.filter((c) => !c.ok)));
      for (const id of ['init', 'initrd-release', 'luks-cryptsetup', 'luks-dm-crypt', 'lvm-tool', 'lvm-udev-rules', 'resume-generator']) {
        assert.ok(built.checks.find((c) => c.id === id)?.ok, `check ${id}`);
      }
    });

    // One UKI build per toolchain (Debian 12: backports' systemd 254 ships ukify; it needs python3-pefile and
    // backports' systemd-boot-efi), left at <chroot>/var/tmp/iw-toolchain-<name>.efi for the UEFI boot tests.
    // Built with --check-reproducible: two builds compared member by member (every PE section, every member of the
    // embedded initrd, which is the very cpio mkosi-initrd wrote, so the cpio format is covered too); the first is kept.
    test('build --format uki --check-reproducible: a UKI for a LUKS2+TPM2 btrfs host, the initrd wrapped by this release\'s ukify with the snapshot\'s command line, passes its section, initrd and command line checks, and a second build is byte-identical', { timeout: 2_400_000 }, async (t) => {
      const uki = path.join(root, 'var/tmp', `iw-toolchain-${tc.name}.efi`);
      const snapshot = 'test/fixtures/snapshots/btrfs-luks-tpm2';
      const started = Date.now();
      const r = await cli(['build', '--check-reproducible', '--format', 'uki', '--snapshot', snapshot, '--kernel-version', kver, '-o', root === '/' ? uki : uki.slice(root.length), '--json']);
      let built: ReproducibleJson & { format: string; ok: boolean; mkosiVersion: string; uki: { generator: string; cmdline: string; cmdlineSource: string; cmdlineFromSnapshot: boolean; uname: string; sections: Array<{ name: string; size: number }> }; checks: Array<{ id: string; ok: boolean; detail: string }> };
      try {
        built = JSON.parse(r.stdout);
      } catch {
        assert.fail(`no JSON (exit ${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
      }
      t.diagnostic(`two UKI builds ${Math.round((Date.now() - started) / 1000)} s, the check added ${Math.round(built.extraBuildMs / 1000)} s; ${built.differences.length} differing members`);
      // Every differing member is listed with its cause: the message shows them if this fails.
      assert.deepEqual(built.differences.map((d) => `${d.member} [${d.fields.join(',')}] ${d.cause}`), [], `${tc.name}: members differ between two builds`);
      assert.equal(built.comparedAs, 'uki');
      assert.equal(built.identical, true);
      assert.equal(built.builds[0]!.sha256, built.builds[1]!.sha256);
      assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
      assert.equal(built.format, 'uki');
      assert.equal(built.uki.generator, 'ukify');
      assert.deepEqual([built.uki.cmdlineSource, built.uki.cmdlineFromSnapshot], ['/etc/kernel/cmdline', true]);
      assert.equal(built.uki.uname, kver);
      assert.ok(built.ok, JSON.stringify(built.checks.filter((c) => !c.ok)));
      for (const id of ['uki-sections', 'init', 'fs-btrfs', 'luks-cryptsetup', 'luks-dm-crypt', 'luks-crypttab', 'tpm2-libraries', 'tpm2-modules', 'cmdline-root', 'cmdline-rootflags', 'cmdline-luks']) {
        assert.ok(built.checks.find((c) => c.id === id)?.ok, `check ${id}`);
      }
      // Read back independently of the build's own report: the kernel as is, os-release, the command line, an initrd for this kernel.
      const raw = await readFile(uki);
      const pe = readPe(raw, uki);
      const section = (n: string) => sectionData(raw, findSection(pe, n)!);
      assert.deepEqual(built.uki.sections, pe.sections.map((s) => ({ name: s.name, size: sectionData(raw, s).length })));
      assert.ok(section('.linux').equals(await readFile(kernel)), '.linux is the kernel image byte for byte');
      assert.equal(section('.osrel').toString(), (await inside(['cat', '/etc/os-release'])).stdout);
      const snapCmdline = (await readFile(path.join(ROOT, snapshot, 'kernel-cmdline'), 'utf8')).trim().split(/\s+/).join(' ');
      assert.equal(section('.cmdline').toString().trim(), snapCmdline);
      const initrd = await readInitrd(section('.initrd'), '.initrd');
      assert.deepEqual([...initrd.entries.values()].filter((e) => e.mtime > SOURCE_DATE_EPOCH).map((e) => e.name), [], 'no member of the embedded initrd newer than SourceDateEpoch=');
      assert.equal(createHash('sha256').update(raw).digest('hex'), built.builds[0]!.sha256, 'the kept UKI is the one compared');
      assert.ok([...initrd.entries.keys()].some((n) => n.startsWith(`usr/lib/modules/${kver}/`)), `modules for ${kver} in the embedded initrd`);
      assert.ok(initrd.read('usr/lib/systemd/systemd-cryptsetup') ?? initrd.read('usr/bin/systemd-cryptsetup'));
    });

    const boot = (shape: DiskShape, withoutCredential = false, timeoutMs = 300_000) =>
      withTempDir(async (dir) => {
        const disk = await makeBootDisk(systemRunner, dir, shape);
        return bootTest({ runner: systemRunner, kernel, initrd: image, disk, accel: 'tcg', withoutCredential, timeoutMs, stopAtPassphrase: withoutCredential });
      });

    test('build --generic keeps no host-specific modules: mkosi\'s default list (ahci, nvme …) plus the storage stack\'s (and boots, on trixie)', { timeout: 1_800_000 }, async (t) => {
      const generic = image.replace(/\.cpio\.zst$/, '-generic.cpio.zst');
      const out = root === '/' ? generic : generic.slice(root.length);
      const r = await cli(['build', '--snapshot', `test/fixtures/snapshots/${FIXTURE}`, '--kernel-version', kver, '--generic', '-o', out, '--json']);
      assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
      const built = JSON.parse(r.stdout) as { ok: boolean; modules: string; image: { modules: number }; packages: { equal: boolean } };
      assert.equal(built.modules, 'generic');
      assert.ok(built.ok && built.packages.equal);
      const names = [...(await readInitrd(await readFile(generic), generic)).entries.keys()].filter((n) => /\.ko(\.\w+)?$/.test(n)).map((n) => path.basename(n).replace(/\.ko(\.\w+)?$/, ''));
      for (const m of ['ahci', 'nvme', 'dm-crypt', 'dm-mod']) assert.ok(names.some((n) => n.replace(/_/g, '-') === m), `${m} in the generic image (${names.length} modules)`);
      // Some module the snapshot host had loaded (in the host-only image) is not in mkosi's list: the generic image leaves it out.
      const hostOnly = [...(await readInitrd(await readFile(image), image)).entries.keys()].filter((n) => /\.ko(\.\w+)?$/.test(n)).map((n) => path.basename(n).replace(/\.ko(\.\w+)?$/, ''));
      const left = hostOnly.filter((m) => !names.includes(m));
      const extra = names.filter((m) => !hostOnly.includes(m));
      assert.deepEqual(extra, [], 'the generic image adds nothing the host-only one lacks (mkosi\'s list is in both)');
      // The bookworm capture had modules loaded that are on no mkosi list: the generic image must leave them out.
      if (tc.fixture === 'luks2-lvm-hibernate') assert.ok(left.length > 0, `the snapshot host's own modules stay out of the generic image (host-only ${hostOnly.length}, generic ${names.length})`);
      // A host whose loaded modules are all on mkosi's list (the trixie capture) gives the same image both ways.
      if (left.length === 0) t.diagnostic(`every module the snapshot host had loaded is on mkosi's default list: the two images are the same (${names.length} modules)`);
      else t.diagnostic(`left out of the generic image, loaded on the snapshot host: ${left.slice(0, 12).join(' ')}${left.length > 12 ? ' …' : ''}`);
      // One boot of a generic image (trixie's) keeps the tier inside its time budget; the host-only images boot on every toolchain.
      if (tc.name !== 'trixie') return;
      const booted = await withTempDir(async (dir) => {
        const disk = await makeBootDisk(systemRunner, dir, { fstype: 'ext4', luks: false, lvm: false, notes: [] });
        return bootTest({ runner: systemRunner, kernel, initrd: generic, disk, accel: 'tcg', timeoutMs: 300_000 });
      });
      assert.ok(booted.ok, booted.log.slice(-3000));
    });

    // Each boot is one QEMU under TCG, one core: two at a time fill this 2-core machine and halve the wait.
    test("boots: ext4, LUKS2 and LVM roots reach their init with this release's kernel, and a LUKS root without its credential stops at the prompt", { timeout: 1_200_000, concurrency: 2 }, async (t) => {
      assert.ok(existsSync(image), 'built by the preview = build test');
      const roots = [
        { name: 'ext4', luks: false, lvm: false },
        { name: 'LUKS2', luks: true, lvm: false },
        { name: 'LVM', luks: false, lvm: true },
      ].map((shape) =>
        t.test(`the image boots an ${shape.name} root to its init`, { timeout: 600_000 }, async () => {
          const r = await boot({ fstype: 'ext4', luks: shape.luks, lvm: shape.lvm, notes: [] });
          assert.ok(r.ok, r.log.slice(-3000));
          assert.ok(r.switchedRoot);
        }),
      );
      const negative = t.test('negative control: a LUKS root without the passphrase credential does not boot', { timeout: 600_000 }, async () => {
        const r = await boot({ fstype: 'ext4', luks: true, lvm: false, notes: [] }, true, 300_000);
        assert.equal(r.ok, false);
        assert.equal(r.marker, false);
        assert.ok(r.askedPassphrase, `it stops at the passphrase prompt, not somewhere else:\n${r.log.slice(-2000)}`);
      });
      await Promise.all([...roots, negative]);
    });
  });
}


