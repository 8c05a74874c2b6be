/**
 * mkosi-initrd's built-in configuration, evaluated the way mkosi does for
 * each version we support (copies of its resources in
 * test/fixtures/mkosi-resources), and what a build installs from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { hostFs } from '../../src/system/files.js';
import { matchContextFor, readEffectiveContent, readProfileContent, type EffectiveContent } from '../../src/mkosi/builtin.js';
import { bootstrapSpecs, expandSpec, planInstallSet, type MkosiModel } from '../../src/mkosi/installset.js';
import { parseDebPackages } from '../../src/packages/apt.js';
import { Pool } from '../../src/packages/pool.js';
import { loadProfiles, pick } from '../../src/variant/profiles.js';
import { ROOT } from '../helpers.js';

const RESOURCES = path.join(ROOT, 'test/fixtures/mkosi-resources');
const VERSIONS = ['24.3', '25.3', '26', '27.1'] as const;
const fs = hostFs('/');

async function content(version: string, distro: { id: string; version: string; codename?: string }, major = Number(version.split('.')[0])): Promise<EffectiveContent> {
  return readEffectiveContent({ fs, builtinDir: path.join(RESOURCES, version), mkosiMajor: major, ctx: matchContextFor(distro) });
}
const specs = (c: EffectiveContent) => c.packages.map((p) => p.spec);

const bookworm = { id: 'debian', version: '12', codename: 'bookworm' };
const trixie = { id: 'debian', version: '13', codename: 'trixie' };
const forky = { id: 'debian', version: '', codename: 'forky' };

test('24.3 and 25.3 install lvm2 and p11-kit from their base list; 26 and 27.1 only through profiles', async () => {
  for (const v of ['24.3', '25.3']) {
    const c = specs(await content(v, bookworm));
    assert.ok(c.includes('lvm2') && c.includes('p11-kit'), `${v}: ${c.join(' ')}`);
  }
  for (const v of ['26', '27.1']) {
    const c = await content(v, trixie);
    assert.ok(!specs(c).includes('lvm2') && !specs(c).includes('p11-kit'), `${v}: ${specs(c).join(' ')}`);
    assert.deepEqual(c.profilesOffered.filter((p) => ['lvm', 'raid', 'pkcs11'].includes(p)), ['lvm', 'pkcs11', 'raid']);
    const lvm = await readProfileContent(fs, path.join(RESOURCES, v), 'lvm', matchContextFor(trixie));
    assert.deepEqual(specs(lvm), ['lvm2']);
    const raid = await readProfileContent(fs, path.join(RESOURCES, v), 'raid', matchContextFor(trixie));
    assert.deepEqual(specs(raid), ['mdadm']);
  }
});

test('Debian per release: systemd-cryptsetup from trixie on, dpkg removed from trixie on, the TPM2 libraries as t64-tolerant patterns or systemd-tpm', async () => {
  const b = await content('25.3', bookworm);
  assert.ok(!specs(b).includes('systemd-cryptsetup'));
  assert.deepEqual(b.removePackages, []);
  const t = await content('25.3', trixie);
  assert.ok(specs(t).includes('systemd-cryptsetup') && specs(t).includes('systemd-repart'));
  assert.deepEqual(t.removePackages.map((r) => r.spec), ['dpkg']);
  const t27 = specs(await content('27.1', trixie));
  assert.ok(t27.includes('^libtss2-mu[0-9.-]+(t64)?$'), t27.join(' '));
  assert.ok(!t27.includes('systemd-tpm'));
  const f27 = specs(await content('27.1', forky));
  assert.ok(f27.includes('systemd-tpm') && !f27.some((s) => s.includes('libtss2')), f27.join(' '));
  // 24.3 asks for systemd-cryptsetup with ?exact-name(), which matches nothing on bookworm.
  assert.ok(specs(await content('24.3', bookworm)).includes('?exact-name(systemd-cryptsetup)'));
});

test('[Match] sections that do not apply leave nothing behind, and a directory whose mkosi.conf does not match is skipped whole', async () => {
  const fedora = specs(await content('25.3', { id: 'fedora', version: '42' }));
  assert.ok(fedora.includes('util-linux-core') && fedora.includes('tpm2-tss'), fedora.join(' '));
  assert.ok(!fedora.includes('kmod') && !fedora.includes('dmsetup'), 'no Debian list on Fedora');
  // 10-centos/mkosi.conf matches only CentOS-likes: its epel drop-in must not apply on Fedora either.
  assert.ok(!fedora.includes('erofs-utils') || (await content('25.3', { id: 'fedora', version: '42' })).files.some((f) => f.path.endsWith('10-fedora.conf') && f.applied));
  const arch = specs(await content('26', { id: 'arch', version: '' }));
  assert.ok(arch.includes('tpm2-tss') && !arch.includes('util-linux-core'));
});

test('the system layers come after mkosi\'s own and an empty Packages= resets the list, as in mkosi', async () => {
  const overrides = new Map([['/etc/mkosi-initrd/mkosi.conf.d/10-mine.conf', '[Content]\nPackages=\nPackages=only-this\n']]);
  const c = await readEffectiveContent({ fs, builtinDir: path.join(RESOURCES, '24.3'), mkosiMajor: 24, ctx: matchContextFor(bookworm), overrides });
  assert.deepEqual(specs(c), ['only-this']);
});

/** Our profiles' package names for the distributions we cannot install here, against every name mkosi's own lists use. */
const NOT_IN_MKOSI: Record<string, Record<string, string>> = {
  centos: { 'device-mapper-persistent-data': 'lvm-thin', iproute: 'network storage', opensc: 'PKCS#11 smart cards', 'systemd-udev': 'never listed: part of systemd', 'systemd-networkd': 'EPEL only; mkosi\'s network profile matches Fedora and openSUSE', 'nfs-utils': 'mkosi\'s nfs profile matches Fedora only', libnfsidmap: 'as nfs-utils' },
  fedora: { 'device-mapper-persistent-data': 'thin-provisioning-tools on Fedora (lvm-thin)', iproute: 'ip for network storage', opensc: 'PKCS#11 smart cards', 'systemd-udev': 'never listed: part of systemd' },
  arch: { 'thin-provisioning-tools': 'lvm-thin', iproute2: 'network storage', opensc: 'PKCS#11 smart cards' },
  opensuse: { 'thin-provisioning-tools': 'lvm-thin', iproute2: 'network storage', opensc: 'PKCS#11 smart cards', 'systemd-network': 'networkd on openSUSE' },
};

test('Fedora, CentOS, Arch and openSUSE names in the profiles are spelled as mkosi-initrd spells them in some supported version', async () => {
  const profiles = await loadProfiles();
  for (const [family, id] of [['fedora', 'fedora'], ['fedora', 'centos'], ['arch', 'arch'], ['opensuse', 'opensuse']] as const) {
    const known = new Set<string>();
    for (const v of VERSIONS) {
      const ctx = { id, version: id === 'fedora' ? '42' : id === 'centos' ? '10' : '' };
      const c = await content(v, ctx);
      for (const s of specs(c)) known.add(s);
      for (const p of c.profilesOffered) for (const s of specs(await readProfileContent(fs, path.join(RESOURCES, v), p, matchContextFor(ctx)))) known.add(s);
    }
    const ours = new Set<string>();
    for (const p of profiles.values()) for (const n of pick(p.packages, { id, version: '', family })) ours.add(n);
    const exceptions = NOT_IN_MKOSI[id] ?? {};
    const unknown = [...ours].filter((n) => !known.has(n) && !(n in exceptions));
    assert.deepEqual(unknown, [], `${id}: names mkosi never uses (typo, or add to NOT_IN_MKOSI with a reason)`);
    // An exception mkosi has since adopted is a stale exception.
    for (const n of Object.keys(exceptions)) assert.ok(!known.has(n), `${n} is in mkosi's lists for ${id} now: drop it from NOT_IN_MKOSI`);
  }
});

// A tiny Debian: two essential packages, a library virtual name provided by its t64 package, an alternative.
const PACKAGES = `
Package: base-files
Version: 13
Architecture: amd64
Essential: yes
Priority: required

Package: dash
Version: 0.5
Architecture: amd64
Essential: yes
Priority: required
Depends: libc6

Package: libc6
Version: 2.40
Architecture: amd64
Priority: optional

Package: mawk
Version: 1.3
Architecture: amd64
Priority: required
Provides: awk

Package: gawk
Version: 5.2
Architecture: amd64
Priority: optional
Provides: awk

Package: systemd
Version: 257
Architecture: amd64
Depends: libc6, libtss2-mu-4.0.1-0t64
Recommends: less

Package: less
Version: 600
Architecture: amd64

Package: libtss2-mu-4.0.1-0t64
Version: 4.1.3
Architecture: amd64
Provides: libtss2-mu0 (= 4.1.3)

Package: lvm2
Version: 2.03
Architecture: amd64
Depends: awk

Package: dpkg
Version: 1.22
Architecture: amd64
Essential: yes

Package: btrfs-progs
Version: 6.14
Architecture: amd64
`;

function tinyPool(): Pool {
  return new Pool({ data: parseDebPackages(PACKAGES, 'amd64').data });
}

function model(c: Partial<EffectiveContent>, major = 25): MkosiModel {
  return {
    mkosiVersion: `${major}`,
    mkosiMajor: major,
    family: 'debian',
    distribution: 'debian',
    release: 'trixie',
    content: { packages: [], removePackages: [], profilesOffered: [], files: [], warnings: [], ...c },
    bootstrap: bootstrapSpecs('debian', 'debian', major),
    found: true,
  };
}
const src = (spec: string) => ({ spec, source: '/usr/lib/python3/dist-packages/mkosi/resources/mkosi-initrd/mkosi.conf' });

test("apt's selectors: ?essential, ?exact-name() of a missing name, and a regular expression that matches a virtual name", () => {
  const pool = tinyPool();
  assert.deepEqual(expandSpec(pool, '?essential'), ['base-files', 'dash', 'dpkg']);
  assert.deepEqual(expandSpec(pool, '?exact-name(usr-is-merged)'), []);
  assert.deepEqual(expandSpec(pool, '^libtss2-mu[0-9.-]+$'), ['libtss2-mu0']);
  assert.deepEqual(expandSpec(pool, '^libtss2-mu[0-9.-]+(t64)?$'), ['libtss2-mu-4.0.1-0t64', 'libtss2-mu0']);
  assert.deepEqual(expandSpec(pool, 'systemd'), ['systemd']);
});

test('the bootstrap set is its own transaction: an alternative it settles (awk by mawk) stays settled for the packages after it', () => {
  const pool = tinyPool();
  const set = planInstallSet(pool, model({ packages: [src('systemd'), src('lvm2')] }), { packages: ['btrfs-progs'], remove: [] });
  const names = set.closure.packages.map((p) => p.name).sort();
  assert.ok(names.includes('mawk') || names.includes('gawk'));
  assert.deepEqual(names.filter((n) => !['mawk', 'gawk'].includes(n)), ['base-files', 'btrfs-progs', 'dash', 'dpkg', 'libc6', 'libtss2-mu-4.0.1-0t64', 'lvm2', 'systemd']);
  assert.equal(set.origin.get('dash'), 'bootstrap');
  assert.equal(set.origin.get('systemd'), 'mkosi');
  assert.equal(set.origin.get('btrfs-progs'), 'variant');
  assert.equal(set.origin.get('libtss2-mu-4.0.1-0t64'), 'dependency');
  assert.ok(!names.includes('less'), 'Recommends are not installed');
});

test("mkosi's RemovePackages= purges the package and what depends on it", () => {
  const pool = tinyPool();
  const set = planInstallSet(pool, model({ packages: [src('systemd')], removePackages: [src('dpkg')] }), { packages: [], remove: [] });
  assert.ok(!set.closure.packages.some((p) => p.name === 'dpkg'));
  assert.deepEqual(set.removedByMkosi.map((r) => r.name), ['dpkg']);
});

test("a user's removal: made when nothing needs the package, refused with the reason when something does or it is Essential", () => {
  const pool = tinyPool();
  const m = model({ packages: [src('systemd'), src('lvm2'), src('btrfs-progs')] });
  const set = planInstallSet(pool, m, { packages: [], remove: ['btrfs-progs', 'libc6', 'dash', 'gone-already'] });
  const by = Object.fromEntries(set.removals.map((r) => [r.name, r]));
  assert.equal(by['btrfs-progs']!.outcome, 'remove-packages');
  assert.match(by['btrfs-progs']!.reason, /mkosi-initrd's built-in configuration/);
  assert.equal(by['libc6']!.outcome, 'refused');
  assert.match(by['libc6']!.reason, /need/);
  assert.equal(by['dash']!.outcome, 'refused');
  assert.match(by['dash']!.reason, /Essential/);
  assert.equal(by['gone-already']!.outcome, 'not-requested');
  assert.deepEqual(set.removePackages, ['btrfs-progs']);
  assert.ok(!set.closure.packages.some((p) => p.name === 'btrfs-progs'));
  assert.ok(set.closure.packages.some((p) => p.name === 'libc6'), 'a refused removal stays in the preview, as in the image');
});
