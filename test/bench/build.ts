/**
 * `npm run bench:slow`: build time and image sizes of the mkosi-initrd
 * variant (default and --slim) next to Debian's own initramfs-tools image for
 * the same kernel on the same machine. Goal: slim <= initramfs-tools.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildCommand } from '../../src/commands/build.js';
import { readInitrd } from '../../src/image/cpio.js';
import { fixture, tempDir, ROOT } from '../helpers.js';

const mb = (n: number) => (n / 1048576).toFixed(1) + ' MiB';
const kver = readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/modules.dep`) && existsSync(`/usr/lib/modules/${k}/vmlinuz`));
if (!kver) {
  console.log('no kernel with modules and vmlinuz: run bash test/mkosi/setup-host.sh');
  process.exit(0);
}
const env = existsSync('/proc/modules') ? undefined : { PATH: `${path.join(ROOT, 'test/mkosi/shim')}:${process.env.PATH}` };
const ignorePreflight = existsSync('/proc/modules') ? [] : ['proc-modules'];
const snapshot = fixture(process.env.BENCH_FIXTURE ?? 'luks2-lvm-hibernate');
const { dir, cleanup } = await tempDir('iw-bench-build-');
try {
  console.log(`## Build (kernel ${kver}, host ${path.basename(snapshot)})`);
  const rows: Array<{ name: string; seconds: number; compressed: number; unpacked: number }> = [];
  for (const slim of [false, true]) {
    const output = path.join(dir, `initrd${slim ? '-slim' : ''}.cpio.zst`);
    const r = await buildCommand({ snapshot, kernelVersion: kver, output, slim, env, ignorePreflight });
    const j = r.json as { durationMs: number; image: { compressedSize: number; unpackedSize: number }; ok: boolean };
    rows.push({ name: `mkosi-initrd${slim ? ' --slim' : ''}`, seconds: j.durationMs / 1000, compressed: j.image.compressedSize, unpacked: j.image.unpackedSize });
    if (!j.ok) console.log(`(checks failed for the ${slim ? 'slim' : 'default'} image)`);
  }
  if (spawnSync('mkinitramfs', ['--help'], { stdio: 'ignore' }).error) {
    console.log('initramfs-tools not installed: apt-get install initramfs-tools for the comparison');
  } else {
    const out = path.join(dir, 'initrd.img-initramfs-tools');
    const t = performance.now();
    execFileSync('mkinitramfs', ['-o', out, kver], { stdio: 'ignore' });
    const seconds = (performance.now() - t) / 1000;
    const raw = await readFile(out);
    const img = await readInitrd(raw, out);
    rows.push({ name: 'initramfs-tools', seconds, compressed: statSync(out).size, unpacked: img.segments.reduce((n, s) => n + s.unpackedSize, 0) });
  }
  for (const r of rows) console.log(`${r.name.padEnd(22)} build ${r.seconds.toFixed(0).padStart(4)} s   compressed ${mb(r.compressed).padStart(10)}   unpacked ${mb(r.unpacked).padStart(10)}`);
  const def = rows[0]!;
  const slim = rows[1]!;
  const itools = rows[2];
  console.log(`slim / default: ${(slim.compressed / def.compressed).toFixed(2)} compressed, ${(slim.unpacked / def.unpacked).toFixed(2)} unpacked`);
  if (itools) console.log(`slim / initramfs-tools: ${(slim.compressed / itools.compressed).toFixed(2)} compressed (${slim.compressed <= itools.compressed ? 'goal met' : 'goal NOT met'}), default / initramfs-tools: ${(def.compressed / itools.compressed).toFixed(2)}`);
} finally {
  await cleanup();
}
