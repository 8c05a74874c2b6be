import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { loadProfiles, parseProfile, pick } from '../../src/variant/profiles.js';

const hasApt = (() => {
  try {
    execFileSync('apt-cache', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('every profile loads and names only known features and valid names', async () => {
  const profiles = await loadProfiles();
  for (const name of ['base', 'luks', 'lvm', 'raid', 'nfs', 'network', 'hibernate', 'tpm2', 'fido2', 'pkcs11', 'btrfs']) {
    assert.ok(profiles.has(name), `${name}.ini exists`);
  }
  for (const p of profiles.values()) {
    assert.ok(p.summary.length > 10, `${p.name} has a summary`);
    assert.ok(p.features.length > 0, `${p.name} says which features select it`);
  }
});

test('every Debian package name in the profiles exists in this machine\'s apt metadata', { skip: !hasApt && 'apt-cache not available' }, async () => {
  const profiles = await loadProfiles();
  const names = new Set<string>();
  for (const p of profiles.values()) {
    // Debian 12 is what CI runs; pick() applies the release overrides (debian-12) exactly as suggest does.
    for (const n of pick(p.packages, { id: 'debian', version: '12', family: 'debian', codename: 'bookworm' })) names.add(n);
  }
  // mkosi's own lists bring the base packages; the profiles name what a storage feature adds.
  assert.ok(names.size >= 8, [...names].join(' '));
  const missing: string[] = [];
  for (const n of names) {
    try {
      const out = execFileSync('apt-cache', ['show', '--no-all-versions', n], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (!/^Package: /m.test(out)) missing.push(n);
    } catch {
      missing.push(n);
    }
  }
  assert.deepEqual(missing, [], `not in apt metadata (run apt-get update): ${missing.join(', ')}`);
});

test('the most specific key wins: a release override beats the family list', () => {
  const p = parseProfile('x', 'summary = test profile\nfeatures = luks\n[packages]\nall = a\ndebian = b c\ndebian-12 =\nubuntu = d\n');
  assert.deepEqual(pick(p.packages, { id: 'debian', version: '12', family: 'debian' }), ['a']);
  assert.deepEqual(pick(p.packages, { id: 'debian', version: '13', family: 'debian' }), ['a', 'b', 'c']);
  assert.deepEqual(pick(p.packages, { id: 'ubuntu', version: '24.04', family: 'debian' }), ['a', 'd']);
  assert.deepEqual(pick(p.packages, { id: 'fedora', version: '41', family: 'fedora' }), ['a']);
});

test('a profile with an unknown feature or an unsafe package name is refused', () => {
  assert.throws(() => parseProfile('x', 'features = teleport\n'), /unknown feature "teleport"/);
  assert.throws(() => parseProfile('x', 'features = luks\n[packages]\nfedora = ok $(rm -rf /)\n'), /not a valid name/);
  assert.throws(() => parseProfile('x', 'features = luks\n[files]\nall = relative/path\n'), /not a valid name/);
});

test('no profile value is cut short by the ini format (";" and "#" start comments there)', async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const { defaultProfilesDir } = await import('../../src/variant/profiles.js');
  const dir = defaultProfilesDir();
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.ini'))) {
    const text = await readFile(`${dir}/${f}`, 'utf8');
    text.split('\n').forEach((line, i) => {
      if (/^\s*[;#\[]/.test(line) || !line.includes('=')) return;
      const value = line.slice(line.indexOf('=') + 1);
      assert.doesNotMatch(value, /[;#]/, `${f}:${i + 1}: a value with ";" or "#" is truncated by the ini reader`);
    });
  }
});
