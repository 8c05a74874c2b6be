/**
 * Preview = build, in the demo: the closure the demo shows for its snapshot
 * (Debian 12's real package list, the recording machine's mkosi 24.3
 * configuration) is exactly the set of packages the recorded real
 * mkosi-initrd build installed, as its own log says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { demoServices } from '../../src/ui/demo-services.js';
import { deriveClosure, deriveVariant } from '../../src/ui/derive.js';
import { NO_CHOICES } from '../../src/ui/services.js';
import { packagesFromLog } from '../../src/mkosi/buildlog.js';
import { ROOT, tempDir } from '../helpers.js';

test("the demo's Closure screen shows exactly the packages its recorded real build installed", async () => {
  const t = await tempDir('iw-demo-preview-');
  try {
    const services = await demoServices({ workDir: t.dir, cacheDir: null });
    const host = await services.loadHost();
    assert.ok(host.mkosi?.found, "the recorded mkosi version's configuration is read");
    const pool = await services.loadPackages(host);
    const { variant } = deriveVariant(host, NO_CHOICES);
    const view = deriveClosure(pool, host.mkosi ?? null, variant!);
    assert.ok(view.ok);
    const record = JSON.parse(await readFile(path.join(ROOT, 'demo/build-record.json'), 'utf8')) as { lines: Array<{ text: string }>; profiles: string[] };
    assert.deepEqual(record.profiles, variant!.profiles, 'the record is of the variant the demo suggests (re-record with scripts/record-demo-build.ts)');
    const built = packagesFromLog(record.lines.map((l) => l.text).join('\n'), 'debian')!;
    const previewed = view.closure.packages.map((p) => p.name).sort();
    assert.deepEqual({ onlyPreviewed: previewed.filter((n) => !built.installed.includes(n)), onlyBuilt: built.installed.filter((n) => !previewed.includes(n)) }, { onlyPreviewed: [], onlyBuilt: [] });
    assert.equal(previewed.length, built.installed.length);
  } finally {
    await t.cleanup();
  }
});

test("in the demo, removing a package mkosi's own list installs is either done after installation or refused with the reason", async () => {
  const t = await tempDir('iw-demo-remove-');
  try {
    const services = await demoServices({ workDir: t.dir, cacheDir: null });
    const host = await services.loadHost();
    const pool = await services.loadPackages(host);
    const { variant } = deriveVariant(host, { ...NO_CHOICES, remove: ['less', 'udev'] });
    const view = deriveClosure(pool, host.mkosi ?? null, variant!);
    assert.ok(view.ok);
    const by = Object.fromEntries(view.set.removals.map((r) => [r.name, r]));
    assert.equal(by.less?.outcome, 'remove-packages', 'nothing needs less: RemovePackages=less');
    assert.ok(!view.closure.packages.some((p) => p.name === 'less'));
    assert.equal(by.udev?.outcome, 'refused');
    assert.match(by.udev!.reason, /need/);
    assert.ok(view.closure.packages.some((p) => p.name === 'udev'), 'a refused removal is still shown as installed');
  } finally {
    await t.cleanup();
  }
});
