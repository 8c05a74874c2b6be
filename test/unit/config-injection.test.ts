/**
 * Nothing from another machine can add a line to a file kernel-install's
 * build reads as root: mkosi splits its configuration with Python's
 * str.splitlines(), so every character that ends a line there is refused in
 * values and comments, as is anything a setting does not allow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { checkConfigText, renderDropIn, VALUE_RULES } from '../../src/mkosi/config.js';
import { filterCrypttab, moduleRegex } from '../../src/mkosi/render.js';
import { setInstallConfKeys } from '../../src/install/installconf.js';
import { InputError } from '../../src/errors.js';
import type { HostReport } from '../../src/host/report.js';

/** Every code point below U+3000 that Python's splitlines() breaks on, asked of Python itself. */
function pythonLineBreaks(): number[] {
  const r = spawnSync('python3', ['-c', 'print(",".join(str(c) for c in range(0x3000) if len(("a"+chr(c)+"b").splitlines()) > 1))'], { encoding: 'utf8' });
  if (r.status !== 0) return [0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029];
  return r.stdout.trim().split(',').map(Number);
}

const INJECTION = (sep: string) => `12${sep}[Content]${sep}ExtraTrees=/etc/shadow:/etc/stolen${sep}#`;

test('every character that ends a line for mkosi is refused in a comment and in a value', () => {
  const breaks = pythonLineBreaks();
  assert.ok(breaks.includes(0x1c) && breaks.includes(0x2028), `python knows the separators: ${breaks}`);
  for (const c of breaks) {
    const sep = String.fromCodePoint(c);
    assert.throws(() => checkConfigText(INJECTION(sep), 'os-release VERSION_ID'), InputError, `U+${c.toString(16)}`);
    assert.throws(() => renderDropIn([`Profiles: base (debian ${INJECTION(sep)}).`], []), InputError, `header with U+${c.toString(16)}`);
    assert.throws(() => renderDropIn([], [{ name: 'Content', settings: [{ key: 'Packages', values: ['systemd', `lvm2${sep}ExtraTrees=/etc/shadow:/x`] }] }]), InputError, `value with U+${c.toString(16)}`);
  }
});

test('values outside what a setting allows are refused, not escaped', () => {
  const bad: Array<[string, string]> = [
    ['Packages', 'lvm2 cryptsetup'],
    ['Packages', 'lvm2,mdadm'],
    ['Packages', '%{shell}'],
    ['Packages', '../../x'],
    ['ExtraTrees', '/etc/shadow'],
    ['ExtraTrees', 'etc/x:/etc/x'],
    ['ExtraTrees', '/etc/%d:/etc/x'],
    ['RemoveFiles', 'usr/share/doc'],
    ['KernelModulesInclude', '/dm crypt\\.ko'],
  ];
  for (const [key, value] of bad) {
    assert.throws(() => renderDropIn([], [{ name: 'Content', settings: [{ key, values: [value] }] }]), InputError, `${key}=${value}`);
  }
  for (const key of Object.keys(VALUE_RULES)) assert.ok(VALUE_RULES[key]!.allows);
});

test('real values still render', () => {
  const text = renderDropIn(['Profiles: base, luks (debian 12).'], [
    {
      name: 'Content',
      settings: [
        { key: 'Packages', values: ['systemd', 'libtss2-esys-3.0.2-0t64', 'perl(Getopt::Long)'.replace(/[()]/g, ''), 'g++', 'libstdc++6'] },
        { key: 'KernelModulesInclude', values: [moduleRegex('dm-crypt'), moduleRegex('virtio_blk')] },
        { key: 'ExtraTrees', values: ['/etc/vconsole.conf:/etc/vconsole.conf', '/etc/mkosi-initrd/initrd-wizard.extra:/'] },
        { key: 'RemoveFiles', values: ['/usr/share/doc', '/usr/bin/perl*'] },
      ],
    },
  ]);
  assert.match(text, /^KernelModulesInclude=\/dm\[-_\]crypt\\\.ko$/m);
});

test('a kernel module name that is not one is refused before it becomes a regular expression', () => {
  for (const name of ['dm_crypt|.*', 'a b', '', 'x\x1cy', '../ext4']) assert.throws(() => moduleRegex(name), InputError, name);
  assert.equal(moduleRegex('dm_crypt'), '/dm[-_]crypt\\.ko');
});

test('a crypttab line carrying a second line inside it is refused', () => {
  const report = { crypttab: [{ name: 'root', device: 'UUID=x', initrdAttach: false, options: [] }] } as unknown as HostReport;
  assert.match(filterCrypttab('root UUID=x none luks\nother UUID=y none luks\n', report)!, /^root UUID=x none luks$/m);
  for (const sep of ['\r', '\x1c', '\u2028', '\x85', '\x1b']) {
    assert.throws(() => filterCrypttab(`root UUID=x none luks${sep}evil /dev/sda none luks\n`, report), InputError, JSON.stringify(sep));
  }
});

test('install.conf takes plain words only', () => {
  assert.equal(setInstallConfKeys('', [['initrd_generator', 'mkosi-initrd']]), 'initrd_generator=mkosi-initrd\n');
  assert.throws(() => setInstallConfKeys('', [['layout', 'uki\nuki_generator=x']]));
});
