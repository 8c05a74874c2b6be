/**
 * The drop-in fits the mkosi it is for: crypttab carried only where mkosi
 * does not copy it, the keymap only before 26, mkosi 26's profile packages
 * and files named for the storage that needs them, removals only as decided.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { renderVariant, SOURCE_DATE_EPOCH } from '../../src/mkosi/render.js';
import { configKey } from '../../src/mkosi/records.js';
import { loadMkosiModel } from '../../src/mkosi/model.js';
import { parseMkosiConfig, listSetting } from '../../src/mkosi/config.js';
import { packagesFromLog, comparePreview } from '../../src/mkosi/buildlog.js';
import { buildPreflight } from '../../src/mkosi/build.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { analyze } from '../../src/host/analyze.js';
import { hostFs } from '../../src/system/files.js';
import { loadProfiles } from '../../src/variant/profiles.js';
import { suggest } from '../../src/variant/suggest.js';
import { fixture, tempDir, ROOT } from '../helpers.js';
import { cp, mkdir, writeFile } from 'node:fs/promises';

const trixie = { id: 'debian', version: '13', family: 'debian' as const, codename: 'trixie' };

async function host(name: string) {
  const snap = await loadSnapshot(fixture(name));
  const report = analyze(snap);
  const variant = suggest(report, await loadProfiles(), { distro: trixie });
  return { snap, report, variant };
}

/** A root whose installed mkosi is the given version (its resources where Debian puts them). */
async function mkosiRoot(version: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const t = await tempDir('iw-mkosi-root-');
  const res = path.join(t.dir, 'usr/lib/python3/dist-packages/mkosi/resources/mkosi-initrd');
  await mkdir(path.dirname(res), { recursive: true });
  await cp(path.join(ROOT, 'test/fixtures/mkosi-resources', version), res, { recursive: true });
  return t;
}

const settings = (text: string, key: string) => {
  const r = parseMkosiConfig(text);
  assert.ok(r.ok);
  return listSetting(r.value, 'Content', key);
};

test('mkosi 24 gets the crypttab lines and the keymap carried in; 25 copies crypttab itself and is told which root line lacks x-initrd.attach', async () => {
  const { snap, report, variant } = await host('luks2-lvm-hibernate');
  const existing = new Set([...variant.hostFiles, '/etc/vconsole.conf']);
  const crypttab = snap.files.get('crypttab') ?? null;
  const r24 = renderVariant(variant, report, { mkosiMajor: 24, existing, crypttab });
  assert.ok([...r24.files.keys()].some((f) => f.endsWith('/etc/crypttab')));
  assert.ok(settings(r24.text, 'ExtraTrees').includes('/etc/vconsole.conf:/etc/vconsole.conf'));
  const r25 = renderVariant(variant, report, { mkosiMajor: 25, existing, crypttab });
  assert.equal(r25.files.size, 0, 'no second crypttab beside the one mkosi 25 writes');
  assert.ok(settings(r25.text, 'ExtraTrees').includes('/etc/vconsole.conf:/etc/vconsole.conf'), 'mkosi 25 copies no keymap');
  assert.ok(r25.notes.some((n) => /x-initrd\.attach/.test(n) && n.includes(report.crypttab[0]!.name)), r25.notes.join('\n'));
  const r26 = renderVariant(variant, report, { mkosiMajor: 26, existing, crypttab });
  assert.ok(!settings(r26.text, 'ExtraTrees').some((t) => t.includes('vconsole')), 'mkosi 26 copies the keymap itself');
});

test("mkosi 26+: an LVM or RAID host's drop-in names lvm2 / mdadm and carries the raid profile's udev rule, read from the installed mkosi", async () => {
  for (const version of ['26', '27.1']) {
    const t = await mkosiRoot(version);
    try {
      const fs = hostFs(t.dir);
      const model = await loadMkosiModel(fs, { version, major: Number(version.split('.')[0]) }, trixie);
      assert.deepEqual(model.profiles.lvm?.packages, ['lvm2']);
      for (const [name, pkg] of [['luks2-lvm-hibernate', 'lvm2'], ['raid1', 'mdadm']] as const) {
        const { report, variant } = await host(name);
        const text = renderVariant(variant, report, { mkosiMajor: model.mkosiMajor, existing: new Set(), model }).text;
        assert.ok(settings(text, 'Packages').includes(pkg), `${version} ${name}: ${pkg}`);
      }
      // 24.3's model offers no profiles: nothing is added on its behalf.
    } finally {
      await t.cleanup();
    }
  }
  const t = await mkosiRoot('24.3');
  try {
    const model = await loadMkosiModel(hostFs(t.dir), { version: '24.3', major: 24 }, trixie);
    assert.deepEqual(model.profiles, {});
    assert.ok(model.content.packages.some((p) => p.spec === 'lvm2'));
  } finally {
    await t.cleanup();
  }
});

test('removals: RemovePackages= holds only what the preview decided, and the header never claims a refused one', async () => {
  const { report, variant } = await host('luks2-lvm-hibernate');
  const tweaked = { ...variant, tweaks: { add: [], remove: ['less', 'libc6'] } };
  const text = renderVariant(tweaked, report, { mkosiMajor: 25, existing: new Set(), removePackages: ['less'], refused: ['libc6'] }).text;
  assert.deepEqual(settings(text, 'RemovePackages'), ['less']);
  assert.match(text, /# Removed by you: less\./);
  assert.match(text, /# Kept although you removed them \(other packages need them\): libc6\./);
  assert.doesNotMatch(text, /Removed by you: [^\n]*libc6/);
});

test('the build log gives the installed packages: apt "Setting up" minus "Removing", or dnf\'s transaction table', () => {
  const log = ['‣ Installing Debian', 'Setting up libc6:amd64 (2.41-12) ...', 'Setting up dpkg (1.22.21) ...', 'Setting up systemd (257.13-1) ...', 'Removing dpkg (1.22.21) ...', 'Setting up up-to-date'].join('\n');
  const built = packagesFromLog(log, 'debian')!;
  assert.deepEqual(built, { installed: ['libc6', 'systemd'], removed: ['dpkg'] });
  assert.deepEqual(comparePreview(['systemd', 'libc6'], built), { previewed: 2, built: 2, equal: true, onlyPreviewed: [], onlyBuilt: [] });
  assert.equal(comparePreview(['systemd'], built).equal, false);
  const dnf = ['Installing:', ' systemd   x86_64  257-1.fc42  fedora  1 M', 'Installing dependencies:', ' libgcc  x86_64  15-1  fedora  100 k', '', 'Transaction Summary'].join('\n');
  assert.deepEqual(packagesFromLog(dnf, 'fedora')!.installed, ['libgcc', 'systemd']);
  assert.equal(packagesFromLog('nothing here', 'debian'), null);
});

test('preflight follows the version: --kernel-image from 25 on, vmlinuz beside the modules before; /proc/modules only for a live build; the firmware directory always', async () => {
  const t = await tempDir('iw-preflight-');
  try {
    const k = '6.12.0-1-amd64';
    await mkdir(path.join(t.dir, `usr/lib/modules/${k}`), { recursive: true });
    await writeFile(path.join(t.dir, `usr/lib/modules/${k}/modules.dep`), '');
    await mkdir(path.join(t.dir, 'boot'), { recursive: true });
    await writeFile(path.join(t.dir, `boot/vmlinuz-${k}`), 'MZ');
    const fs = hostFs(t.dir);
    const base = { fs, kernelVersion: k, uid: 0, mkosiVersion: '25.3', hasInitrd: true, family: 'arch' };
    const p25 = await buildPreflight({ ...base, mkosiMajor: 25, liveModules: false });
    assert.equal(p25.find((p) => p.id === 'vmlinuz')?.ok, true);
    assert.equal(p25.find((p) => p.id === 'proc-modules'), undefined, 'a snapshot build does not read this machine\'s modules');
    assert.equal(p25.find((p) => p.id === 'firmware-dir')?.ok, false);
    const p24 = await buildPreflight({ ...base, mkosiVersion: '24.3', mkosiMajor: 24, liveModules: true });
    assert.equal(p24.find((p) => p.id === 'vmlinuz')?.ok, false);
    assert.equal(p24.find((p) => p.id === 'proc-modules')?.ok, false);
  } finally {
    await t.cleanup();
  }
});

test("a keymap file that is a link (Debian's vconsole.conf → default/keyboard) is not carried: only the real file", async () => {
  const { carriedKeymapFiles } = await import('../../src/service/variant-config.js');
  const { symlink } = await import('node:fs/promises');
  const t = await tempDir('iw-keymap-');
  try {
    await mkdir(path.join(t.dir, 'etc/default'), { recursive: true });
    await writeFile(path.join(t.dir, 'etc/default/keyboard'), 'XKBLAYOUT="de"\n');
    await symlink('default/keyboard', path.join(t.dir, 'etc/vconsole.conf'));
    const fs = hostFs(t.dir);
    const files = await carriedKeymapFiles(fs, async (p) => (await fs.stat(p)) !== null);
    assert.deepEqual(files, ['/etc/default/keyboard']);
  } finally {
    await t.cleanup();
  }
});

test('reproducible builds: every version pins SourceDateEpoch= to one fixed value, so the drop-in and its build record key never change; mkosi 24 also removes the logs and caches 25 removes itself', async () => {
  const { snap, report, variant } = await host('luks2-lvm-hibernate');
  const existing = new Set(variant.hostFiles);
  const crypttab = snap.files.get('crypttab') ?? null;
  for (const mkosiMajor of [24, 25, 26, 27]) {
    for (const slim of [false, true]) {
      const a = renderVariant(variant, report, { mkosiMajor, existing, crypttab, slim });
      assert.deepEqual(settings(a.text, 'SourceDateEpoch'), [String(SOURCE_DATE_EPOCH)], `mkosi ${mkosiMajor}`);
      const remove = settings(a.text, 'RemoveFiles');
      for (const dir of ['/var/cache', '/var/log']) {
        if (mkosiMajor < 25) assert.equal(remove.filter((f) => f === dir).length, 1, `mkosi ${mkosiMajor}${slim ? ' --slim' : ''} removes ${dir} once: ${remove.join(' ')}`);
        else assert.equal(remove.includes(dir), slim, `mkosi ${mkosiMajor} removes ${dir} itself; only --slim names it`);
      }
      // Rendering again (a later install, a later build) gives the same text and the same record key.
      const b = renderVariant(variant, report, { mkosiMajor, existing, crypttab, slim });
      assert.equal(b.text, a.text);
      assert.equal(configKey(b), configKey(a));
    }
  }
  // Not 0 or 1: the epoch's day count becomes the last password change in /etc/shadow, and day 0 forces a change.
  assert.ok(SOURCE_DATE_EPOCH >= 86400 * 365, 'an epoch well after 1970');
});

test('crypttab lines without x-initrd.attach: the host report does not guess what mkosi copies; mkosi 25 is told, and rd.luks.name= is offered only for a LUKS header on the device', async () => {
  // mkosi 24 (the demo's) gets the lines carried in, so the report must not say they are lost.
  for (const name of ['btrfs-luks-tpm2-hibernate', 'luks2-lvm-hibernate', 'plain-dm-crypt', 'luks-detached-header']) {
    const { report } = await host(name);
    assert.deepEqual(report.warnings.filter((w) => /x-initrd\.attach|will not copy/.test(w)), [], name);
  }
  const luks = await host('luks2-lvm-hibernate');
  const r = renderVariant(luks.variant, luks.report, { mkosiMajor: 25, existing: new Set(luks.variant.hostFiles), crypttab: luks.snap.files.get('crypttab') ?? null });
  assert.ok(r.notes.some((n) => /x-initrd\.attach.*or pass rd\.luks\.name=/.test(n)), r.notes.join('\n'));
  for (const name of ['plain-dm-crypt', 'luks-detached-header']) {
    const h = await host(name);
    const crypttab = h.snap.files.get('crypttab') ?? null;
    const notes = renderVariant(h.variant, h.report, { mkosiMajor: 25, existing: new Set([...h.variant.hostFiles, '/etc/crypttab']), crypttab }).notes;
    assert.ok(!notes.some((n) => /rd\.luks\.name=|rd\.luks\.uuid=/.test(n)), `${name}: ${notes.join('\n')}`);
  }
});
