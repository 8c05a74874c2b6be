/**
 * The real kernel-install path with today's toolchains: Debian 13 (trixie:
 * mkosi 25.3, systemd 257) and sid (mkosi 27.1, systemd 262, dracut 112),
 * each in a fresh copy of its chroot (test/support/toolchain.ts).
 *
 * Inside the chroot: `initrd-wizard install --snapshot` must plan mkosi's own
 * 50-mkosi.install (no plugin of ours), write layout=bls (kernel-install
 * picks "other" there otherwise, which installs nothing), and mask exactly the
 * initrd plugins that would not step aside; then the real
 * `kernel-install add KVER /boot/vmlinuz-KVER` must run mkosi-initrd and leave
 * one zstd cpio initrd from mkosi-initrd in the entry directory and a loader
 * entry that uses it, with no second initrd from Debian's 55-initrd.install
 * (a stale /boot/initrd.img-KVER is put there as bait) and no dracut run.
 * `revert` then brings /etc back byte for byte.
 *
 * Then the same with layout=uki (ukiRoundTrip below): the BLS entry just
 * built is the fallback, and the UKI lands signed in $BOOT/EFI/Linux.
 *
 * This machine's kernel has no /proc/modules; mkosi reads the snapshot's copy
 * instead (inChroot's procModules). A build takes 2–5 minutes; both
 * toolchains run side by side.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readInitrd } from '../../src/image/cpio.js';
import { copyChroot, ensureChroot, inChroot, removeChroot, type Suite } from '../support/toolchain.js';
import { treeHash } from '../support/roots.js';
import { CLI, isRoot, ROOT } from '../helpers.js';
import { findSection, readPe, sectionData } from '../../src/image/pe.js';

const FIXTURE = 'luks2-lvm-hibernate';
const SNAP = `test/fixtures/snapshots/${FIXTURE}`;
const CLI_IN = path.relative(ROOT, CLI);
const skip = !isRoot ? 'needs root (chroot, mounts)' : !existsSync(CLI) ? 'dist/ not built (node scripts/build.mjs)' : false;

interface PlanJson {
  plugin: { path: string; owner: string };
  generators: string[];
  changes: Array<{ path: string; kind: string; target?: string; why: string }>;
  notes: string[];
}

describe('kernel-install with mkosi-initrd on trixie and sid', { concurrency: true }, () => {
  for (const suite of ['trixie', 'sid'] as Suite[]) {
    test(`${suite}: install, a real kernel-install add, revert`, { skip, timeout: 900_000 }, async () => {
      // A throwaway copy of the shared toolchain chroot (made once by make-chroot.sh; slow test files run one at a time).
      const dir = await copyChroot(await ensureChroot(suite), `/var/tmp/ki-${suite}-${process.pid}`);
      const run = (argv: string[], timeoutMs = 120_000) => inChroot(dir, argv, { procModules: path.join(ROOT, SNAP, 'modules'), timeoutMs });
      try {
        // mkosi-initrd installs from the chroot's own apt lists (--cache-only=metadata); mmdebstrap leaves none.
        const upd = await run(['apt-get', '-q', '-o', 'Acquire::Check-Valid-Until=false', 'update']);
        assert.equal(upd.code, 0, upd.stderr);
        const kver = (await readdir(path.join(dir, 'usr/lib/modules')))[0]!;
        // Bait: what initramfs-tools or dracut's postinst leave; 55-initrd.install links it in when it runs.
        await writeFile(path.join(dir, `boot/initrd.img-${kver}`), 'an initrd made by initramfs-tools or dracut\n');

        // A system without firmware packages has no /usr/lib/firmware, which every mkosi-initrd hands to mkosi: install refuses.
        const firmware = path.join(dir, 'usr/lib/firmware');
        const aside = `${firmware}.aside`;
        if (existsSync(firmware)) await rename(firmware, aside);
        const refused = await run(['node', CLI_IN, 'install', '--snapshot', SNAP, '--dry-run']);
        assert.equal(refused.code, 1, refused.stdout);
        assert.match(refused.stderr, /\/usr\/lib\/firmware does not exist: mkosi-initrd hands it to mkosi 2\d(\.\d+)? as an extra tree/);
        if (existsSync(aside)) await rename(aside, firmware);
        else await mkdir(firmware);

        const etcBefore = await treeHash(path.join(dir, 'etc'));
        // The plan, as JSON from a dry run; then the install itself, as a user sees it.
        const dry = await run(['node', CLI_IN, 'install', '--snapshot', SNAP, '--dry-run', '--json']);
        assert.equal(dry.code, 0, dry.stderr);
        const plan = JSON.parse(dry.stdout) as PlanJson;
        assert.deepEqual(plan.plugin, { path: '/usr/lib/kernel/install.d/50-mkosi.install', owner: 'mkosi' }, 'mkosi\'s own plugin builds the initrd');
        assert.ok(plan.notes.includes('kernel-install builds the initrd with mkosi\'s own plugin /usr/lib/kernel/install.d/50-mkosi.install; initrd-wizard installs no plugin of its own'), plan.notes.join(' | '));
        assert.ok(!plan.changes.some((c) => c.path === '/etc/kernel/install.d/50-mkosi-initrd.install'), 'no plugin of ours beside mkosi\'s');
        assert.match(plan.changes.find((c) => c.path === '/etc/kernel/install.conf')!.why, /layout=bls: left unset, kernel-install picks "other"/);
        const masks = plan.changes.filter((c) => c.kind === 'symlink').map((c) => path.basename(c.path));
        if (suite === 'trixie') {
          // systemd 257's 55-initrd.install links /boot/initrd.img-KVER whatever initrd_generator says.
          assert.deepEqual(masks, ['55-initrd.install']);
          // The kernel package pulled in initramfs-tools; no dracut here.
          assert.deepEqual(plan.generators, ['initramfs-tools']);
        } else {
          // systemd 262's 55-initrd.install and dracut 112's plugins step aside for another initrd_generator.
          assert.deepEqual(masks, []);
          for (const n of ['50-dracut.install', '51-dracut-rescue.install', '55-initrd.install']) assert.ok(plan.notes.some((x) => x.startsWith(`${n}: it exits when initrd_generator names another generator`)), `${n} left enabled: ${plan.notes.join(' | ')}`);
          assert.deepEqual(plan.generators, ['dracut']);
        }
        const inst = await run(['node', CLI_IN, 'install', '--snapshot', SNAP, '--yes', '--force']);
        assert.equal(inst.code, 0, inst.stderr);
        // What install says stays installed is true for this root: sid has dracut (no initramfs-tools), trixie the reverse.
        const fallback = inst.stdout.split('\n').filter((l) => /installed as the fallback|No other initrd generator/.test(l));
        assert.deepEqual(fallback, [`${suite === 'sid' ? 'dracut' : 'initramfs-tools'} stays installed as the fallback; kernel-install no longer uses it.`]);
        const conf = await readFile(path.join(dir, 'etc/kernel/install.conf'), 'utf8');
        assert.match(conf, /^initrd_generator=mkosi-initrd$/m);
        assert.match(conf, /^layout=bls$/m);

        const started = Date.now();
        const ki = await run(['kernel-install', '--verbose', 'add', kver, `/boot/vmlinuz-${kver}`], 600_000);
        const log = ki.stdout + ki.stderr;
        assert.equal(ki.code, 0, log.slice(-4000));
        process.stderr.write(`# ${suite}: kernel-install add took ${Math.round((Date.now() - started) / 1000)} s\n`);
        assert.match(log, new RegExp(`About to execute /usr/lib/kernel/install\\.d/50-mkosi\\.install add ${kver.replace(/[.+]/g, '\\$&')} `), 'kernel-install ran mkosi\'s plugin');
        assert.match(log, /Building initrd/, 'which built a cpio initrd (its "Building initrd" before running mkosi-initrd)');
        assert.match(log, /'?\/usr\/lib\/kernel\/install\.d\/50-mkosi\.install'? succeeded/);
        assert.doesNotMatch(log, /Installing '\/boot\/initrd\.img-/, '55-initrd.install linked no second initrd');
        assert.doesNotMatch(log, /^dracut(\[[A-Z]\])?:/m, 'dracut did not run');

        // The loader entry and what it points at.
        const entries = (await readdir(path.join(dir, 'boot/loader/entries'))).filter((e) => e.endsWith(`${kver}.conf`));
        assert.equal(entries.length, 1, `one entry for ${kver}: ${entries.join(', ')}`);
        const entry = await readFile(path.join(dir, 'boot/loader/entries', entries[0]!), 'utf8');
        const initrds = [...entry.matchAll(/^initrd\s+(\S+)$/gm)].map((m) => m[1]!);
        const main = initrds.filter((p) => path.basename(p) !== 'microcode');
        assert.equal(main.length, 1, `one initrd besides microcode in the entry: ${initrds.join(', ')}`);
        assert.ok(!initrds.some((p) => p.includes('initrd.img-')), 'nothing of /boot/initrd.img-KVER');
        const entryDir = path.dirname(path.join(dir, main[0]!));
        assert.deepEqual((await readdir(entryDir)).filter((n) => n !== 'microcode').sort(), ['initrd', 'linux']);
        const raw = await readFile(path.join(dir, main[0]!));
        assert.equal(raw.subarray(0, 4).toString('hex'), '28b52ffd', 'zstd-compressed');
        const image = await readInitrd(raw);
        assert.ok(image.entries.has('init') && image.entries.has('etc/initrd-release'), 'a systemd initrd');
        assert.ok(image.entries.has('usr/sbin/lvm'), 'with the variant\'s lvm2 from the drop-in');
        assert.ok(![...image.entries.keys()].some((k) => k.startsWith('usr/lib/dracut/')), 'not a dracut image');
        const modules = [...image.entries.keys()].filter((k) => k.startsWith(`usr/lib/modules/${kver}/`) && /\.ko(\.xz|\.zst)?$/.test(k));
        assert.ok(modules.some((k) => /\/dm-crypt\.ko/.test(k)), `kernel modules from the drop-in and the snapshot's /proc/modules (${modules.length})`);

        const rv = await run(['node', CLI_IN, 'revert', '--json']);
        assert.equal(rv.code, 0, rv.stderr);
        assert.equal(await treeHash(path.join(dir, 'etc')), etcBefore, '/etc byte for byte as before the install');

        await ukiRoundTrip(dir, run, kver);
      } finally {
        await removeChroot(dir);
      }
    });
  }
});

const exec = promisify(execFile);

/**
 * layout=uki on top of the BLS entry the first part left (its fallback): a
 * throwaway Secure Boot key in uki.conf, `install --layout uki --regenerate`
 * runs the real kernel-install (mkosi-initrd, then 60-ukify.install and
 * 90-uki-copy.install), the UKI lands in $BOOT/EFI/Linux signed with that key
 * and with /etc/kernel/cmdline inside, the BLS entry is untouched, and revert
 * brings /etc and /boot back byte for byte (the UKI is removed).
 */
async function ukiRoundTrip(dir: string, run: (argv: string[], timeoutMs?: number) => ReturnType<typeof inChroot>, kver: string): Promise<void> {
  await exec('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=initrd-wizard throwaway test key', '-keyout', path.join(dir, 'root/sb.key'), '-out', path.join(dir, 'root/sb.crt')]);
  await writeFile(path.join(dir, 'etc/kernel/uki.conf'), '[UKI]\nSecureBootPrivateKey=/root/sb.key\nSecureBootCertificate=/root/sb.crt\n');
  const etcBefore = await treeHash(path.join(dir, 'etc'));
  const bootBefore = await treeHash(path.join(dir, 'boot'));
  const bootOutsideEfi = await treeHash(path.join(dir, 'boot'), ['EFI']);
  const entries = (await readdir(path.join(dir, 'boot/loader/entries'))).filter((e) => e.endsWith(`${kver}.conf`));
  assert.equal(entries.length, 1, 'the BLS entry of the first part is there to fall back to');

  const dry = await run(['node', CLI_IN, 'install', '--snapshot', SNAP, '--kernel-version', kver, '--layout', 'uki', '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as PlanJson & { uki: { generator: string; boot: string; cmdline: string; signed: { certificate: string } | null } };
  assert.equal(plan.uki.generator, 'ukify');
  assert.equal(plan.uki.boot, '/boot');
  assert.equal(plan.uki.signed?.certificate, '/root/sb.crt');
  assert.ok(plan.notes.some((n) => /will be signed for Secure Boot by ukify \(sbsign, from \/etc\/kernel\/uki\.conf\) with the certificate \/root\/sb\.crt \(CN ?= ?initrd-wizard throwaway test key\)/.test(n)), plan.notes.join(' | '));
  assert.ok(plan.notes.some((n) => /^\$BOOT \/boot needs about .* for the UKI \(an estimate: kernel /.test(n)), plan.notes.join(' | '));
  const snapCmdline = (await readFile(path.join(ROOT, SNAP, 'cmdline'), 'utf8')).trim();
  assert.equal(plan.uki.cmdline, snapCmdline, "the snapshot host's command line (it has no BOOT_IMAGE= to drop)");
  assert.ok(plan.changes.some((c) => c.path === '/etc/kernel/cmdline'), 'the command line is written down');

  const started = Date.now();
  const inst = await run(['node', CLI_IN, 'install', '--snapshot', SNAP, '--kernel-version', kver, '--layout', 'uki', '--yes', '--force', '--regenerate', '--json'], 600_000);
  assert.equal(inst.code, 0, inst.stderr.slice(-4000));
  process.stderr.write(`# ${kver}: install --layout uki --regenerate (mkosi-initrd, ukify, sbsign) took ${Math.round((Date.now() - started) / 1000)} s\n`);
  const res = JSON.parse(inst.stdout) as { regenerated: { entryToken: string; uki: string } };
  const machineId = (await readFile(path.join(dir, 'etc/machine-id'), 'utf8').catch(() => '')).trim();
  assert.equal(res.regenerated.uki, `/boot/EFI/Linux/${res.regenerated.entryToken}-${kver}.efi`);
  assert.deepEqual(await readdir(path.join(dir, 'boot/EFI/Linux')), [path.basename(res.regenerated.uki)]);
  const uki = await readFile(path.join(dir, res.regenerated.uki));
  const pe = readPe(uki);
  for (const s of ['.linux', '.initrd', '.cmdline', '.osrel']) assert.ok(findSection(pe, s), `${s} in the UKI`);
  const cmdline = sectionData(uki, findSection(pe, '.cmdline')!).toString('utf8').replace(/\0+$/, '').trim();
  const wanted = (await readFile(path.join(dir, 'etc/kernel/cmdline'), 'utf8')).trim();
  // 60-ukify.install appends systemd.machine_id= only when entries are named after the machine ID.
  assert.equal(cmdline, res.regenerated.entryToken === machineId ? `${wanted} systemd.machine_id=${machineId}` : wanted);
  const initrd = await readInitrd(sectionData(uki, findSection(pe, '.initrd')!));
  assert.ok(initrd.entries.has('usr/sbin/lvm'), "mkosi-initrd's image with the variant's lvm2 inside the UKI");
  // Signed with the throwaway key (sbsigntool on the host reads the chroot's file).
  const ok = await exec('sbverify', ['--cert', path.join(dir, 'root/sb.crt'), path.join(dir, res.regenerated.uki)]).then(() => true, () => false);
  assert.ok(ok, 'sbverify accepts the UKI with the configured certificate');
  assert.equal(await treeHash(path.join(dir, 'boot'), ['EFI']), bootOutsideEfi, 'the BLS entry and its initrd stay as they were: the fallback');

  const rv = await run(['node', CLI_IN, 'revert', '--json']);
  assert.equal(rv.code, 0, rv.stderr);
  assert.equal(await treeHash(path.join(dir, 'etc')), etcBefore, '/etc byte for byte as before the UKI install');
  assert.equal(await treeHash(path.join(dir, 'boot')), bootBefore, '/boot byte for byte: the UKI and the directories made for it are gone, the BLS entry untouched');
}
