/**
 * Every rendered drop-in is read back by the real mkosi parser (`mkosi
 * summary` with mkosi-initrd's own configuration plus the drop-in), so a
 * syntax slip cannot reach users.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderVariant, filterCrypttab, SOURCE_DATE_EPOCH } from '../../src/mkosi/render.js';
import { parseMkosiVersion } from '../../src/mkosi/version.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { analyze } from '../../src/host/analyze.js';
import { loadProfiles } from '../../src/variant/profiles.js';
import { suggest } from '../../src/variant/suggest.js';
import { fixture, fixtureNames, tempDir } from '../helpers.js';

const version = (() => {
  const r = spawnSync('mkosi', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? parseMkosiVersion(r.stdout) : null;
})();
const skip = !version || version.major < 24 ? 'mkosi >= 24 is not installed (bash test/mkosi/setup-host.sh)' : false;

test('the drop-in of every captured host parses in real mkosi and carries our lists', { skip }, async () => {
  const profiles = await loadProfiles();
  const { dir, cleanup } = await tempDir('iw-render-');
  try {
    for (const name of await fixtureNames()) {
      const snap = await loadSnapshot(fixture(name));
      const report = analyze(snap);
      const variant = suggest(report, profiles, { distro: { id: 'debian', version: '12', family: 'debian' } });
      for (const slim of [false, true]) {
        const rendered = renderVariant(variant, report, { slim, mkosiMajor: version!.major, existing: new Set(variant.hostFiles), crypttab: snap.files.get('crypttab') ?? null });
        const inc = path.join(dir, `${name}-${slim}`);
        await mkdir(path.join(inc, 'mkosi.conf.d'), { recursive: true });
        await writeFile(path.join(inc, 'mkosi.conf.d', '50-initrd-wizard.conf'), rendered.text);
        const out = execFileSync('mkosi', ['--directory', '', '--include=mkosi-initrd', '--include', inc, '--json', 'summary'], { encoding: 'utf8', cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        const image = JSON.parse(out).Images[0];
        for (const p of variant.packages) assert.ok(image.Packages.includes(p), `${name}: ${p} reaches mkosi's package list`);
        for (const m of variant.kernelModules) assert.ok(image.KernelModulesInclude.some((r: string) => new RegExp(r).test(`kernel/x/${m.replace(/_/g, '-')}.ko`) && new RegExp(r).test(`kernel/x/${m}.ko`)), `${name}: module ${m}`);
        if (slim) assert.ok(image.RemoveFiles.includes('/usr/share/doc'), `${name}: slim removes docs`);
        // Reproducible builds: mkosi itself reads the pinned epoch (and, before 25, the removal of build-time logs).
        assert.equal(image.SourceDateEpoch, SOURCE_DATE_EPOCH, `${name}: SourceDateEpoch= reaches mkosi`);
        if (version!.major < 25) for (const d of ['/var/cache', '/var/log']) assert.ok(image.RemoveFiles.includes(d), `${name}: mkosi ${version!.major} removes ${d}`);
        if (rendered.files.size) assert.ok(JSON.stringify(image.ExtraTrees).includes('initrd-wizard.extra'), `${name}: extra tree for generated files`);
      }
    }
  } finally {
    await cleanup();
  }
});

test('the carried crypttab holds only the lines the initrd needs', async () => {
  const snap = await loadSnapshot(fixture('luks2-lvm-hibernate'));
  const report = analyze(snap);
  const text = `# comment\n${snap.files.get('crypttab')}\nhome_crypt UUID=1234 /etc/keys/home luks\nextra UUID=5678 none luks,x-initrd.attach\n`;
  const filtered = filterCrypttab(text, report)!;
  const names = filtered.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(names.sort(), [...report.crypttab.map((c) => c.name), 'extra'].sort());
  assert.ok(!filtered.includes('/etc/keys/home'), 'a key file of a non-initrd device never goes in');
});
