/**
 * The kernel-install contract for initrd-wizard's own plugin
 * (libexec/50-mkosi-initrd.install, installed where mkosi ships none): it
 * steps aside, exit 0 and nothing written, when kernel-install was given
 * initrds (`kernel-install add KVER IMAGE INITRD…`) and when the kernel image
 * is already a unified kernel image, which systemd 254+ says in
 * KERNEL_INSTALL_IMAGE_TYPE and the plugin finds itself (a PE ".linux"
 * section) on 252, which does not. mkosi-initrd is a stand-in that records
 * that it ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from '../helpers.js';

const PLUGIN = path.join(ROOT, 'libexec/50-mkosi-initrd.install');
const KVER = '6.1.0-99-amd64';
const haveKernelInstall = spawnSync('kernel-install', ['--version'], { stdio: 'ignore' }).status === 0;

/** A minimal PE image: MZ header, PE signature, COFF header, no optional header, the named sections. */
export function peImage(sections: string[]): Buffer {
  const peOff = 0x80;
  const buf = Buffer.alloc(peOff + 24 + sections.length * 40 + 64);
  buf.write('MZ', 0, 'latin1');
  buf.writeUInt32LE(peOff, 0x3c);
  buf.write('PE\0\0', peOff, 'latin1');
  buf.writeUInt16LE(0x8664, peOff + 4); // machine: x86-64
  buf.writeUInt16LE(sections.length, peOff + 6);
  buf.writeUInt16LE(0, peOff + 20); // SizeOfOptionalHeader
  sections.forEach((name, i) => buf.write(name.padEnd(8, '\0'), peOff + 24 + i * 40, 'latin1'));
  return buf;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  staged: string[];
  built: boolean;
}

async function setup(dir: string): Promise<{ bin: string; staging: string; log: string }> {
  const bin = path.join(dir, 'bin');
  const staging = path.join(dir, 'staging');
  const log = path.join(dir, 'mkosi-initrd.log');
  await mkdir(bin, { recursive: true });
  await mkdir(staging, { recursive: true });
  await writeFile(
    path.join(bin, 'mkosi-initrd'),
    `#!/bin/sh\necho "$@" >> ${log}\nwhile [ $# -gt 0 ]; do case "$1" in -O) out=$2; shift;; esac; shift; done\necho "built by mkosi-initrd" > "$out/initrd.cpio.zst"\nln -s initrd.cpio.zst "$out/initrd"\n`,
  );
  await chmod(path.join(bin, 'mkosi-initrd'), 0o755);
  return { bin, staging, log };
}

async function runPlugin(dir: string, args: string[], env: Record<string, string>): Promise<Run> {
  const { bin, staging, log } = await setup(dir);
  const r = spawnSync(PLUGIN, ['add', KVER, path.join(dir, 'entry'), ...args], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, KERNEL_INSTALL_STAGING_AREA: staging, KERNEL_INSTALL_INITRD_GENERATOR: 'mkosi-initrd', KERNEL_INSTALL_LAYOUT: 'bls', KERNEL_INSTALL_VERBOSE: '1', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, staged: await readdir(staging), built: existsSync(log) };
}

test('the plugin steps aside when kernel-install was given initrds', async () => {
  const { dir, cleanup } = await tempDir('iw-plugin-');
  try {
    await writeFile(path.join(dir, 'vmlinuz'), peImage(['.setup', '.text']));
    await writeFile(path.join(dir, 'initrd-given'), 'given\n');
    const r = await runPlugin(dir, [path.join(dir, 'vmlinuz'), path.join(dir, 'initrd-given')], { KERNEL_INSTALL_IMAGE_TYPE: 'pe' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.built, false, 'mkosi-initrd did not run');
    assert.deepEqual(r.staged, [], 'nothing written to the staging area');
    assert.match(r.stdout, /Initrds were passed/);
  } finally {
    await cleanup();
  }
});

test('the plugin steps aside when KERNEL_INSTALL_IMAGE_TYPE=uki', async () => {
  const { dir, cleanup } = await tempDir('iw-plugin-');
  try {
    await writeFile(path.join(dir, 'vmlinuz'), peImage(['.setup', '.text']));
    const r = await runPlugin(dir, [path.join(dir, 'vmlinuz')], { KERNEL_INSTALL_IMAGE_TYPE: 'uki' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.built, false);
    assert.deepEqual(r.staged, []);
  } finally {
    await cleanup();
  }
});

test('without KERNEL_INSTALL_IMAGE_TYPE (systemd 252) the plugin finds a UKI by its .linux section and steps aside', async () => {
  const { dir, cleanup } = await tempDir('iw-plugin-');
  try {
    await writeFile(path.join(dir, 'uki.efi'), peImage(['.text', '.osrel', '.cmdline', '.initrd', '.linux']));
    const r = await runPlugin(dir, [path.join(dir, 'uki.efi')], {});
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.built, false, 'mkosi-initrd did not run for a UKI');
    assert.deepEqual(r.staged, []);
    assert.match(r.stdout, /already a unified kernel image/);
  } finally {
    await cleanup();
  }
});

test('the plugin steps aside when mkosi\'s own 50-mkosi.install runs too (mkosi upgraded to 25+ after the install)', async () => {
  const { dir, cleanup } = await tempDir('iw-plugin-');
  try {
    await writeFile(path.join(dir, 'vmlinuz'), peImage(['.setup', '.text']));
    const r = await runPlugin(dir, [path.join(dir, 'vmlinuz')], { KERNEL_INSTALL_IMAGE_TYPE: 'pe', KERNEL_INSTALL_PLUGINS: `/usr/lib/kernel/install.d/50-mkosi.install ${PLUGIN} /usr/lib/kernel/install.d/90-loaderentry.install` });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.built, false, 'one build, by mkosi\'s plugin');
    assert.deepEqual(r.staged, []);
    const alone = await runPlugin(dir, [path.join(dir, 'vmlinuz')], { KERNEL_INSTALL_IMAGE_TYPE: 'pe', KERNEL_INSTALL_PLUGINS: `${PLUGIN} /usr/lib/kernel/install.d/90-loaderentry.install` });
    assert.equal(alone.built, true, 'without mkosi\'s plugin ours builds');
  } finally {
    await cleanup();
  }
});

test('a plain kernel (PE without .linux, or not PE at all) still gets an initrd', async () => {
  for (const [name, image, env] of [
    ['pe without image type', peImage(['.setup', '.reloc', '.compat', '.text']), {}],
    ['not a PE', Buffer.from('not really a kernel\n'), {}],
    ['image type pe', peImage(['.text', '.linux']), { KERNEL_INSTALL_IMAGE_TYPE: 'pe' }],
  ] as Array<[string, Buffer, Record<string, string>]>) {
    const { dir, cleanup } = await tempDir('iw-plugin-');
    try {
      await writeFile(path.join(dir, 'vmlinuz'), image);
      const r = await runPlugin(dir, [path.join(dir, 'vmlinuz')], env);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.built, true, `${name}: mkosi-initrd ran`);
      assert.deepEqual(r.staged, ['initrd'], `${name}: exactly one initrd staged`);
      assert.equal(await readFile(path.join(dir, 'staging/initrd'), 'utf8'), 'built by mkosi-initrd\n');
    } finally {
      await cleanup();
    }
  }
});

test('the real kernel-install with initrds given: the entry uses them, mkosi-initrd does not run', { skip: !haveKernelInstall && 'kernel-install missing' }, async () => {
  const { dir, cleanup } = await tempDir('iw-plugin-');
  try {
    const { bin, log } = await setup(dir);
    const root = path.join(dir, 'root');
    for (const d of ['etc/kernel', 'boot/loader/entries']) await mkdir(path.join(root, d), { recursive: true });
    await writeFile(path.join(root, 'etc/kernel/install.conf'), 'layout=bls\ninitrd_generator=mkosi-initrd\n');
    await writeFile(path.join(root, 'vmlinuz'), peImage(['.setup', '.text']));
    await writeFile(path.join(root, 'initrd-given'), 'given\n');
    const r = spawnSync('kernel-install', ['add', KVER, path.join(root, 'vmlinuz'), path.join(root, 'initrd-given')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        KERNEL_INSTALL_CONF_ROOT: path.join(root, 'etc/kernel'),
        BOOT_ROOT: path.join(root, 'boot'),
        MACHINE_ID: '0123456789abcdef0123456789abcdef',
        KERNEL_INSTALL_PLUGINS: `${PLUGIN} /usr/lib/kernel/install.d/90-loaderentry.install`,
      },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(log), false, 'mkosi-initrd did not run');
    const entryDir = path.join(root, `boot/0123456789abcdef0123456789abcdef/${KVER}`);
    assert.deepEqual((await readdir(entryDir)).sort(), ['initrd-given', 'linux']);
    const entry = await readFile(path.join(root, `boot/loader/entries/0123456789abcdef0123456789abcdef-${KVER}.conf`), 'utf8');
    assert.match(entry, /^initrd\s+\S+\/initrd-given$/m);
    assert.equal(entry.match(/^initrd\s/gm)?.length, 1, 'one initrd in the entry');
  } finally {
    await cleanup();
  }
});

test('layout=uki: the plugin builds the initrd for ukify to wrap, and leaves it to mkosi when mkosi builds the UKI', async () => {
  for (const [generator, builds] of [['ukify', true], ['mkosi', false]] as const) {
    const { dir, cleanup } = await tempDir('iw-plugin-');
    try {
      await writeFile(path.join(dir, 'vmlinuz'), peImage(['.setup', '.text']));
      const r = await runPlugin(dir, [path.join(dir, 'vmlinuz')], { KERNEL_INSTALL_IMAGE_TYPE: 'pe', KERNEL_INSTALL_LAYOUT: 'uki', KERNEL_INSTALL_UKI_GENERATOR: generator });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.built, builds, `uki_generator=${generator}`);
      // 60-ukify.install takes the staging area's initrd* files: exactly one, ours.
      assert.deepEqual(r.staged, builds ? ['initrd'] : [], `uki_generator=${generator}`);
    } finally {
      await cleanup();
    }
  }
});
