/**
 * Advice names the initrd generator the host uses now (issue 14 item 4): a
 * Debian host builds its initrds with initramfs-tools and was told to "keep
 * dracut" and that "dracut's multipath module" would carry its setup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSnapshot } from '../../src/host/analyze.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { hostLines } from '../../src/ui/view.js';
import { formatReport } from '../../src/commands/format.js';
import { main } from '../../src/cli.js';
import { fixture, fixtureNames } from '../helpers.js';

const OS = {
  fedora: 'ID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41"\n',
  arch: 'ID=arch\nPRETTY_NAME="Arch Linux"\n',
  unknown: 'ID=plan9\nPRETTY_NAME="Plan 9"\n',
};

async function multipathAs(osRelease?: string, installConf?: string) {
  const snap = await loadSnapshot(fixture('multipath'));
  if (osRelease) snap.files.set('os-release', osRelease);
  if (installConf) snap.files.set('install.conf', installConf);
  const report = analyzeSnapshot(snap);
  const advice = report.unsupported.map((u) => u.advice).join('\n');
  const screen = hostLines(report).map((l) => l.map((s) => s.t).join('')).join('\n');
  return { report, advice, screen, text: formatReport(report) };
}

test('Debian (the capture): keep initramfs-tools, and its multipath-tools-boot; no word of dracut', async () => {
  const { report, advice, screen, text } = await multipathAs();
  assert.equal(report.host.initrdGenerator, 'initramfs-tools');
  assert.match(advice, /^Keep initramfs-tools as the initrd generator \(it stays installed; do not set initrd_generator=mkosi-initrd\); the multipath-tools-boot package/);
  assert.match(screen, /NOT SUPPORTED by a package-built initrd — keep initramfs-tools on this host/);
  for (const t of [advice, screen, text]) assert.doesNotMatch(t, /dracut/i);
});

test("Fedora: keep dracut, and dracut's multipath module", async () => {
  const { report, advice, screen } = await multipathAs(OS.fedora);
  assert.equal(report.host.initrdGenerator, 'dracut');
  assert.match(advice, /^Keep dracut as the initrd generator .*; dracut's multipath module carries multipath-tools/);
  assert.match(screen, /keep dracut on this host/);
});

test('Arch: keep mkinitcpio, with no claim about what it offers; an unknown distribution is not given a name', async () => {
  const arch = await multipathAs(OS.arch);
  assert.equal(arch.report.host.initrdGenerator, 'mkinitcpio');
  assert.equal(arch.advice, 'Keep mkinitcpio as the initrd generator (it stays installed; do not set initrd_generator=mkosi-initrd).');
  const other = await multipathAs(OS.unknown);
  assert.equal(other.report.host.initrdGenerator, null);
  assert.match(other.advice, /^Keep the initrd generator this host uses now \(do not set initrd_generator=mkosi-initrd\)\.$/);
  assert.doesNotMatch(other.advice + other.screen, /dracut|initramfs-tools|mkinitcpio/);
});

test('install.conf saying initrd_generator=dracut wins over the Debian default', async () => {
  const { report, advice } = await multipathAs(undefined, 'layout=bls\ninitrd_generator=dracut\n');
  assert.equal(report.host.initrdGenerator, 'dracut');
  assert.match(advice, /^Keep dracut/);
});

test('no Debian capture is told about dracut by detect or suggest, text or JSON', async () => {
  for (const name of await fixtureNames()) {
    for (const cmd of ['detect', 'suggest']) {
      for (const json of [[], ['--json']]) {
        let out = '';
        await main([cmd, '--snapshot', fixture(name), ...json], { stdout: (s) => void (out += s), stderr: (s) => void (out += s) });
        assert.doesNotMatch(out, /dracut/i, `${cmd} ${json.join(' ')} on ${name}`);
      }
    }
  }
});
