import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PeFormatError, findSection, readPe, sectionData } from '../../src/image/pe.js';
import { cmdlineValue, filterProcCmdline, parseCmdlineFile } from '../../src/uki/cmdline.js';
import { pickUkiGenerator } from '../../src/uki/generator.js';

// Written by the real ukify and stub of Debian 13 (scripts/make-uki-fixture.sh).
const tiny = readFileSync(new URL('../fixtures/uki/tiny.efi', import.meta.url));

test('reads the sections ukify writes, in order, with their contents', () => {
  const pe = readPe(tiny);
  assert.equal(pe.arch, 'x86_64');
  const names = pe.sections.map((s) => s.name);
  for (const n of ['.osrel', '.cmdline', '.uname', '.linux', '.initrd']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
  assert.equal(sectionData(tiny, findSection(pe, '.uname')!).toString(), '6.12.0-fixture');
  assert.match(sectionData(tiny, findSection(pe, '.cmdline')!).toString(), /root=UUID=0b2c5e4d-0000-4000-8000-000000000001 rw/);
  assert.equal(sectionData(tiny, findSection(pe, '.linux')!).length, 4096);
  assert.equal(sectionData(tiny, findSection(pe, '.initrd')!).subarray(0, 6).toString(), '070701');
});

test('a truncated, foreign or forged image is refused with a reason, never read out of bounds', () => {
  assert.throws(() => readPe(Buffer.from('070701')), (e: unknown) => e instanceof PeFormatError && /no MZ header/.test(e.message));
  assert.throws(() => readPe(tiny.subarray(0, tiny.length - 4096)), /runs past the end of the file/);
  const forged = Buffer.from(tiny);
  forged.writeUInt32LE(0xfffffff0, 0x3c);
  assert.throws(() => readPe(forged), /outside the/);
  const many = Buffer.from(tiny);
  many.writeUInt16LE(5000, many.readUInt32LE(0x3c) + 6);
  assert.throws(() => readPe(many), /5000 sections/);
  // Every single-byte truncation either parses or throws our error: no RangeError.
  for (let n = 0; n < 0x400; n += 7) {
    try {
      readPe(tiny.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof PeFormatError, String(e));
    }
  }
});

test('the command line is found as kernel-install finds it', () => {
  assert.deepEqual(filterProcCmdline('BOOT_IMAGE=/vmlinuz-6.1 root=UUID=x ro initrd=\\initrd quiet\n'), ['root=UUID=x', 'ro', 'quiet']);
  assert.deepEqual(parseCmdlineFile('# comment\nroot=/dev/sda1  rw\n\tquiet\n'), ['root=/dev/sda1', 'rw', 'quiet']);
  assert.equal(cmdlineValue(['root=a', 'x', 'root=b'], 'root'), 'b');
});

test('the UKI generator follows the versions and refuses what cannot work', () => {
  const trixie = { systemd: 257, ukify: '/usr/bin/ukify', stub: '/usr/lib/systemd/boot/efi/linuxx64.efi.stub', mkosiMajor: 25, family: 'debian' };
  assert.deepEqual({ ...pickUkiGenerator(trixie), why: '' }, { ok: true, generator: 'ukify', why: '' });
  // mkosi 25+ could name the file right, but takes the stub from the image, where mkosi-initrd installs none.
  const mk = pickUkiGenerator(trixie, 'mkosi');
  assert.equal(mk.ok, false);
  assert.match(mk.ok ? '' : mk.problems.map((p) => `${p.detail} ${p.fix}`).join('\n'), /sd-stub not found.*use uki_generator=ukify/s);
  const bookworm = { systemd: 252, ukify: null, stub: null, mkosiMajor: 24, family: 'debian' };
  const r = pickUkiGenerator(bookworm, 'mkosi');
  assert.equal(r.ok, false);
  const details = r.ok ? [] : r.problems.map((p) => p.detail + ' / ' + p.fix);
  assert.match(details.join('\n'), /systemd 252 cannot build a UKI/);
  assert.match(details.join('\n'), /apt-get install systemd-ukify/);
  assert.match(details.join('\n'), /apt-get install systemd-boot-efi/);
  assert.match(details.join('\n'), /mkosi >= 25/);
  const fedora = pickUkiGenerator({ ...trixie, stub: null, family: 'fedora' });
  assert.match(fedora.ok ? '' : fedora.problems[0]!.fix!, /dnf install systemd-boot-unsigned/);
});

test('on Debian 12 ukify comes from bookworm-backports\' systemd, not a package that does not exist there', () => {
  const r = pickUkiGenerator({ systemd: 252, ukify: null, stub: '/usr/lib/systemd/boot/efi/linuxx64.efi.stub', mkosiMajor: 24, family: 'debian', codename: 'bookworm' });
  const text = r.ok ? '' : r.problems.map((p) => `${p.detail} ${p.fix}`).join('\n');
  assert.match(text, /apt-get install -t bookworm-backports systemd python3-pefile/);
  assert.doesNotMatch(text, /systemd-ukify/);
});

test('each distribution family of variant/distro.ts gets its own stub and ukify packages', () => {
  const missing = { systemd: 257, ukify: null, stub: null, mkosiMajor: 25 };
  const fixes = (family: string) => {
    const r = pickUkiGenerator({ ...missing, family });
    return r.ok ? [] : r.problems.map((p) => p.fix);
  };
  assert.deepEqual(fixes('opensuse'), ['zypper install systemd-experimental', 'zypper install systemd-boot']);
  assert.deepEqual(fixes('arch'), ['pacman -S systemd-ukify', 'pacman -S systemd']);
  assert.deepEqual(fixes('fedora'), ['dnf install systemd-ukify', 'dnf install systemd-boot-unsigned']);
});
