/**
 * A detached LUKS header's advice follows where the encrypted data starts:
 * restoring the header onto the device writes over its first sectors, so it
 * is never suggested when the data begins at sector 0 (the real capture) or
 * when the snapshot does not say where it begins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/host/analyze.js';
import { loadSnapshot } from '../../src/host/snapshot.js';
import { fixture } from '../helpers.js';

async function advice(table: (t: string) => string | undefined): Promise<string> {
  const snap = await loadSnapshot(fixture('luks-detached-header'));
  const t = table(snap.files.get('dmsetup-table')!);
  if (t === undefined) snap.files.delete('dmsetup-table');
  else snap.files.set('dmsetup-table', t);
  const found = analyze(snap).unsupported.filter((u) => u.id === 'luks-detached-header');
  assert.equal(found.length, 1, JSON.stringify(analyze(snap).unsupported));
  return found[0]!.advice;
}

/** Does the advice tell the user to run luksHeaderRestore (rather than not to)? */
const suggestsRestore = (a: string) => /(?<!do not run )cryptsetup luksHeaderRestore \/dev\/\S+ --header-backup-file/.test(a);

test('data at sector 0 (the capture, a Debian host): keep initramfs-tools, and restoring the header is named as what would destroy data', async () => {
  const a = await advice((t) => t);
  assert.match(a, /^Keep initramfs-tools/);
  assert.match(a, /starts at its first sector, so there is no room for the header/);
  assert.match(a, /do not run cryptsetup luksHeaderRestore on \/dev\/\S+, which would overwrite the start of the data/);
  assert.equal(suggestsRestore(a), false, a);
});

test('no dmsetup table in the snapshot: nothing is suggested that needs the offset', async () => {
  const a = await advice(() => undefined);
  assert.match(a, /depends on where its data starts \(the offset field of `dmsetup table cryptroot`\)/);
  assert.equal(suggestsRestore(a), false, a);
});

test('room before the data (offset 32768 sectors): the restore is offered with its checks and a backup first', async () => {
  const a = await advice((t) => t.replace(/ 254:3 0$/m, ' 254:3 32768'));
  assert.match(a, /starts 32768 sectors \(16 MiB\) in/);
  assert.match(a, /only if `cryptsetup luksDump \/boot\/luks\/cryptroot\.header` shows a data offset of 32768 sectors/);
  assert.match(a, /back up those first sectors \(dd if=\/dev\/\S+ of=FIRST-SECTORS bs=512 count=32768\), then cryptsetup luksHeaderRestore \/dev\/\S+ --header-backup-file \/boot\/luks\/cryptroot\.header/);
  assert.ok(suggestsRestore(a));
});
