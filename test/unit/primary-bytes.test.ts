/**
 * primary.xml read as bytes: every field createrepo_c writes lands in the
 * pool as the string reader put it (entities, character references and UTF-8
 * included), and the bytes may arrive cut anywhere, inside a tag or inside a
 * multi-byte character, with the same pool as the result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrimaryBytes } from '../../src/packages/primary.js';
import { PoolBuilder, stringOf, type PackedPool } from '../../src/packages/pool.js';
import { prng } from '../support/handmade-repo.js';

const OPS = ['', '<', '<=', '=', '>=', '>'];

/** The pool as plain data: each package's fields and lists as text. */
function readable(d: PackedPool) {
  const s = (i: number) => stringOf(d, i);
  const list = (off: Int32Array, a: Int32Array, p: number) => Array.from(a.subarray(off[p]!, off[p + 1]!), s);
  return Array.from(d.name, (_, p) => ({
    name: s(d.name[p]!),
    arch: s(d.archId[p]!),
    evr: s(d.evr[p]!),
    size: d.size[p],
    provides: Array.from({ length: d.provOff[p + 1]! - d.provOff[p]! }, (_, j) => {
      const k = d.provOff[p]! + j;
      return d.provOp[k] ? `${s(d.provName[k]!)} ${OPS[d.provOp[k]!]} ${s(d.provEvr[k]!)}` : s(d.provName[k]!);
    }),
    requires: list(d.reqOff, d.req, p),
    recommends: list(d.recOff, d.rec, p),
    obsoletes: list(d.obsOff, d.obs, p),
    files: list(d.fileOff, d.file, p),
  }));
}

async function parse(pieces: Array<Buffer | string>, arch = 'x86_64') {
  const b = new PoolBuilder('rpm', arch);
  const { warnings } = await parsePrimaryBytes(pieces, 'r', b, 'p.xml');
  return { packages: readable(b.finish()), warnings };
}

const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="4">
<package type="rpm">
  <name>libfoo&amp;bar</name>
  <arch>x86_64</arch>
  <version epoch="2" ver="1.0" rel="3.fc41"/>
  <checksum type="sha256" pkgid="YES">abc</checksum>
  <summary>Ünïcode &lt;summary&gt;</summary>
  <size package="100" installed="123456" archive="200"/>
  <format>
    <rpm:license>MIT</rpm:license>
    <rpm:provides>
      <rpm:entry name="libfoo&amp;bar" flags="EQ" epoch="2" ver="1.0" rel="3.fc41"/>
      <rpm:entry name="libfoo.so.1()(64bit)"/>
      <rpm:entry name="fünf" flags="GE" epoch="0" ver="5&#x41;"/>
    </rpm:provides>
    <rpm:requires>
      <rpm:entry name="rpmlib(CompressedFileNames)" flags="LE" epoch="0" ver="3.0.4" rel="1"/>
      <rpm:entry name="/bin/sh" pre="1"/>
      <rpm:entry name="libc.so.6(GLIBC_2.34)(64bit)"/>
      <rpm:entry name="glibc" flags="GT" epoch="0" ver="2.38"/>
      <rpm:entry name="(zlib or zlib-ng if systemd)"/>
      <rpm:entry name="odd" flags="XX" ver="1"/>
    </rpm:requires>
    <rpm:recommends>
      <rpm:entry name="foo-doc" flags="LT" epoch="1" ver="2" rel=""/>
    </rpm:recommends>
    <rpm:obsoletes>
      <rpm:entry name="oldfoo" flags="LE" epoch="0" ver="0.9"/>
    </rpm:obsoletes>
    <file>/usr/bin/foo</file>
    <file type="dir">/etc/foo</file>
    <file type="ghost">/var/log/f&#252;&#x00FC;.log</file>
    <file type="other">/not/read</file>
    <file/>
  </format>
</package>
<package type="rpm"><name>foo-src</name><arch>src</arch><version epoch="0" ver="1" rel="1"/></package>
<package type="rpm"><name>arm-only</name><arch>aarch64</arch><version epoch="0" ver="1" rel="1"/></package>
<package type="rpm"><name>nover</name><arch>noarch</arch></package>
<package type="rpm"><name>plain</name><arch>noarch</arch><version epoch="0" ver="7"/><size installed="-5"/></package>
</metadata>
`;

const EXPECTED = [
  {
    name: 'libfoo&bar',
    arch: 'x86_64',
    evr: '2:1.0-3.fc41',
    size: 123456,
    provides: ['libfoo&bar = 2:1.0-3.fc41', 'libfoo.so.1()(64bit)', 'fünf >= 5A'],
    requires: ['/bin/sh', 'libc.so.6(GLIBC_2.34)(64bit)', 'glibc > 2.38', '(zlib or zlib-ng if systemd)', 'odd'],
    recommends: ['foo-doc < 1:2-'],
    obsoletes: ['oldfoo <= 0.9'],
    files: ['/usr/bin/foo', '/etc/foo', '/var/log/füü.log'],
  },
  { name: 'plain', arch: 'noarch', evr: '7', size: 0, provides: ['plain = 7'], requires: [], recommends: [], obsoletes: [], files: [] },
];

test('every field createrepo_c writes is read as the string reader read it', async () => {
  const { packages, warnings } = await parse([DOC]);
  assert.deepEqual(packages, EXPECTED);
  assert.deepEqual(warnings, ['p.xml: a package without name, arch or version was skipped']);
});

test('bytes cut anywhere, inside tags and inside multi-byte characters, give the same pool', async () => {
  const bytes = Buffer.from(DOC, 'utf8');
  for (let seed = 1; seed <= 60; seed++) {
    const rand = prng(seed);
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const len = 1 + Math.floor(rand() * (rand() < 0.5 ? 7 : 400));
      pieces.push(bytes.subarray(at, at + len));
      at += len;
    }
    assert.deepEqual((await parse(pieces)).packages, EXPECTED, `seed ${seed}`);
  }
  // One byte at a time.
  assert.deepEqual((await parse(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)))).packages, EXPECTED);
});

test('an invalid character reference names the file; a bad field never crashes', async () => {
  await assert.rejects(parse([DOC.replace('5&#x41;', '5&#x0;')]), /p\.xml: "&#x0;" is not a valid character reference/);
  // Unterminated attributes, a tag with no end, an entry outside any section: read as far as they make sense.
  const odd = DOC.replace('flags="GT" epoch="0" ver="2.38"', 'flags="GT ver="2.38').replace('<rpm:entry name="odd" flags="XX" ver="1"/>', '<rpm:entry name="odd');
  const { packages } = await parse([odd]);
  assert.equal(packages[0]!.name, 'libfoo&bar');
});
