/**
 * Which installed initrd plugins step aside for initrd_generator=mkosi-initrd
 * and which must be masked, read from the plugins the distributions ship
 * (test/fixtures/kernel-install-plugins) and from shapes other builds use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { analyzeDracutPlugin } from '../../src/install/dracut.js';
import { ROOT } from '../helpers.js';
import { STUBBORN_DRACUT, YIELDING_DRACUT } from '../support/roots.js';

const shipped = (release: string, name: string) => analyzeDracutPlugin(`/usr/lib/kernel/install.d/${name}`, readFileSync(path.join(ROOT, 'test/fixtures/kernel-install-plugins', release, name), 'utf8'));

test('the plugins Debian ships: which step aside', () => {
  // systemd 254 (bookworm-backports) and 257 (trixie): 55-initrd links /boot/initrd.img-KVER whatever the generator.
  for (const r of ['bookworm-254', 'trixie-257']) {
    const a = shipped(r, '55-initrd.install');
    assert.equal(a.yields, false, r);
    assert.match(a.reason, /links \/boot\/initrd\.img-KVER .* second initrd/);
  }
  // sid (systemd 262): 55-initrd exits when any initrd_generator is set.
  assert.equal(shipped('sid-262', '55-initrd.install').yields, true);
  // dracut 112: `if [[ "${…:-dracut}" = "dracut" ]]; then … else exit 0; fi`, and the rescue plugin's `!= dracut … exit 0`.
  assert.equal(shipped('sid-262', '50-dracut.install').yields, true);
  assert.equal(shipped('sid-262', '51-dracut-rescue.install').yields, true);
});

test('other shapes', () => {
  const a = (text: string) => analyzeDracutPlugin('/usr/lib/kernel/install.d/50-dracut.install', text).yields;
  assert.equal(a(YIELDING_DRACUT), true);
  assert.equal(a(STUBBORN_DRACUT), false);
  assert.equal(a('#!/bin/sh\n[ "${KERNEL_INSTALL_INITRD_GENERATOR:-dracut}" != dracut ] && exit 0\ndracut -f "$KERNEL_INSTALL_STAGING_AREA/initrd" "$2"\n'), true);
  assert.equal(a('#!/bin/sh\n[ "${KERNEL_INSTALL_INITRD_GENERATOR:-dracut}" = dracut ] || exit 0\ndracut -f x\n'), true);
  assert.equal(a('#!/bin/sh\ncase "${KERNEL_INSTALL_INITRD_GENERATOR:-dracut}" in\n  dracut) ;;\n  *) exit 0 ;;\nesac\ndracut -f x\n'), true);
  assert.equal(a('#!/bin/bash\nif [[ "${KERNEL_INSTALL_INITRD_GENERATOR:-dracut}" = "dracut" ]]\nthen\n  IMAGE=initrd\nelse\n  exit 0\nfi\ndracut -f x\n'), true);
  // Reads the variable but only to log it, or exits with an error: not a step aside.
  assert.equal(a('#!/bin/sh\necho "generator: $KERNEL_INSTALL_INITRD_GENERATOR"\ndracut -f x\n'), false);
  assert.equal(a('#!/bin/sh\nif [ "$KERNEL_INSTALL_INITRD_GENERATOR" != dracut ]; then\n  echo odd\n  exit 1\nfi\ndracut -f x\n'), false);
  // A commented-out guard does not count.
  assert.equal(a('#!/bin/sh\n# [ "$KERNEL_INSTALL_INITRD_GENERATOR" != dracut ] && exit 0\ndracut -f x\n'), false);
});
