/**
 * `npm run bench:slow`: per toolchain users run (shared/docs/toolchains.md) — bookworm (this host, mkosi 24.3),
 * trixie (mkosi 25.3) and sid (mkosi 27.1) — the product's build of a fixture snapshot, default and --slim
 * (build time, compressed and unpacked size, previewed and built package counts, which must be equal), next to
 * the same release's initramfs-tools and dracut for the same kernel on the same machine.
 *
 * Where each runs:
 *  - the product: bookworm on the host itself; trixie and sid inside private copies of the shared toolchain
 *    chroots (/var/tmp/bench-trixie, /var/tmp/bench-sid), the way test/slow/toolchains.test.ts runs it;
 *  - initramfs-tools and dracut: inside second copies (/var/tmp/bench-trixie-gen, /var/tmp/bench-sid-gen) and
 *    inside a bookworm chroot holding the host's kernel modules and /boot/config (/var/tmp/bench-bookworm), never
 *    on the host or in the product's copies: they conflict with each other, and what apt brings with them
 *    changes the host the product sees. Each is installed (recommends included, as apt does by default) with the
 *    fixture's storage stack (cryptsetup, lvm2); one replaces the other between measurements.
 *
 * Modes measured (a chroot on a build machine sees the build machine's disks, not the fixture's):
 *  - initramfs-tools: Debian's default MODULES=most, CRYPTSETUP=y (the fixture's root is LUKS2);
 *  - dracut --no-hostonly (generic) and dracut --hostonly with the fixture's storage modules (crypt lvm resume)
 *    and its loaded drivers (--add-drivers, from the snapshot's /proc/modules) — the dracut counterpart of the
 *    product's host-only build for the snapshot.
 *
 * Reproducibility: the default build runs as `build --check-reproducible` (a second build from the same package
 * metadata, compared member by member): each toolchain prints the number of differing members (goal 0, a failure
 * otherwise) and what the check added to the build time.
 *
 * Environment: BENCH_TOOLCHAINS=bookworm,trixie,sid (default all), BENCH_FIXTURE (default luks2-lvm-hibernate),
 * BENCH_JSON=FILE (write the numbers as JSON), BENCH_SKIP_HOSTONLY=1 (skip dracut --hostonly).
 * Exits non-zero when a build's previewed and built packages differ, or anything could not be measured.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixture, CLI, ROOT } from '../helpers.js';
import { reusableCopy, ensureBookwormChroot, ensureChroot } from '../support/toolchain.js';
import { ensureGenerator, installed, measure, run, type Generator } from './generators.js';

const mib = (n: number) => (n / 1048576).toFixed(1);
const FIXTURE = process.env.BENCH_FIXTURE ?? 'luks2-lvm-hibernate';
const snapshotRel = path.relative(ROOT, fixture(FIXTURE));
const wanted = (process.env.BENCH_TOOLCHAINS ?? 'bookworm,trixie,sid').split(',').map((s) => s.trim()).filter(Boolean);
const withHostonly = !process.env.BENCH_SKIP_HOSTONLY;

type Name = 'bookworm' | 'trixie' | 'sid';

interface Row {
  name: string;
  seconds: number;
  compressed: number;
  unpacked: number;
  compression: string;
  packages?: { previewed: number; built: number; equal: boolean; onlyPreviewed: string[]; onlyBuilt: string[] } | null;
  /** Default build only: the second build's comparison. */
  reproducible?: { differing: number; extraSeconds: number; causes: string[] };
}

interface Result {
  toolchain: Name;
  kernelVersion: string;
  versions: Record<string, string>;
  rows: Row[];
  notes: string[];
}

const failures: string[] = [];
const results: Result[] = [];

/** The fixture's loaded modules (its /proc/modules), for dracut's host-only counterpart. */
async function fixtureDrivers(): Promise<string[]> {
  const text = await readFile(path.join(fixture(FIXTURE), 'modules'), 'utf8').catch(() => '');
  return text.split('\n').map((l) => l.split(/\s+/)[0]!).filter(Boolean);
}

function kernelIn(root: string): string {
  const modules = path.join(root, 'usr/lib/modules');
  const kver = existsSync(modules) ? readdirSync(modules).find((k) => existsSync(path.join(modules, k, 'modules.dep'))) : undefined;
  if (!kver) throw new Error(`no kernel with modules.dep under ${modules}`);
  return kver;
}

const firstLine = (s: string) => s.trim().split('\n')[0]!.trim();

async function productBuild(root: string, kver: string, slim: boolean, outDir: string): Promise<Row> {
  const out = path.join(outDir, `mkosi${slim ? '-slim' : ''}.cpio.zst`);
  // The default build doubles as the reproducibility check (the same flags, built twice).
  const args = ['build', '--snapshot', snapshotRel, '--kernel-version', kver, '-o', out, '--json', ...(slim ? ['--slim'] : ['--check-reproducible'])];
  const r = await run(root, root === '/' ? [process.execPath, CLI, ...args] : ['node', 'dist/bin/initrd-wizard.js', ...args]);
  let j: {
    durationMs: number;
    ok: boolean;
    image: { compressedSize: number; unpackedSize: number };
    packages: Row['packages'];
    checks: Array<{ id: string; ok: boolean; detail: string }>;
    differences?: Array<{ member: string; cause: string }>;
    extraBuildMs?: number;
  };
  try {
    j = JSON.parse(r.stdout);
  } catch {
    throw new Error(`initrd-wizard ${args.join(' ')} (exit ${r.code}) gave no JSON:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  }
  if (!j.image || !Array.isArray(j.checks)) throw new Error(`initrd-wizard ${args.join(' ')} (exit ${r.code}) did not build:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  const name = `mkosi-initrd${slim ? ' --slim' : ''}`;
  if (!j.ok) failures.push(`${name}: checks failed: ${j.checks.filter((c) => !c.ok).map((c) => `${c.id} (${c.detail})`).join('; ')}`);
  const m = await measure(path.join(root, out));
  await rm(path.join(root, out), { force: true });
  await rm(path.join(root, `${out}.log`), { force: true });
  const reproducible = j.differences && j.extraBuildMs !== undefined ? { differing: j.differences.length, extraSeconds: j.extraBuildMs / 1000, causes: [...new Set(j.differences.map((d) => d.cause))] } : undefined;
  if (!slim && !reproducible) failures.push(`${name}: --check-reproducible gave no comparison`);
  if (reproducible?.differing) failures.push(`${name}: two builds differ in ${reproducible.differing} members (${reproducible.causes.join('; ')})`);
  return { name, seconds: j.durationMs / 1000, compressed: j.image.compressedSize, unpacked: j.image.unpackedSize, compression: m.compression, packages: j.packages, reproducible };
}

async function generatorRow(root: string, name: string, argv: string[], out: string): Promise<Row> {
  await rm(path.join(root, out), { force: true });
  const r = await run(root, argv, { INITRD: 'No' });
  if (r.code !== 0 || !existsSync(path.join(root, out))) throw new Error(`${argv.join(' ')} in ${root} failed (exit ${r.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  const m = await measure(path.join(root, out));
  await rm(path.join(root, out), { force: true });
  return { name, seconds: r.seconds, compressed: m.compressed, unpacked: m.unpacked, compression: m.compression };
}

/** Runs one measurement; a failure is recorded (the bench exits non-zero) and the rest of the table still printed. */
async function attempt<T>(label: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    failures.push(`${label}: ${(e as Error).message}`);
    console.log(`(${label} FAILED: ${(e as Error).message.split('\n').slice(0, 8).join(' | ')})`);
    return null;
  }
}

async function generators(name: Name, root: string, kver: string, versions: Record<string, string>, notes: string[]): Promise<Row[]> {
  const outDir = '/var/tmp/iw-bench';
  await mkdir(path.join(root, outDir), { recursive: true });
  const rows: Row[] = [];
  const push = (r: Row | null) => r && rows.push(r);
  // Whichever is installed goes first: one apt transaction per run instead of two.
  const order: Generator[] = (await installed(root, 'dracut')) ? ['dracut', 'initramfs-tools'] : ['initramfs-tools', 'dracut'];
  const drivers = await fixtureDrivers();
  for (const gen of order) {
    const version = await attempt(`${name} install ${gen}`, () => ensureGenerator(root, gen));
    if (!version) continue;
    versions[gen] = version;
    if (gen === 'initramfs-tools') {
      push(await attempt(`${name} mkinitramfs`, () => generatorRow(root, 'initramfs-tools (MODULES=most)', ['mkinitramfs', '-o', `${outDir}/initramfs-tools.img`, kver], `${outDir}/initramfs-tools.img`)));
    } else {
      const conf = await run(root, ['sh', '-c', 'grep -hs "^[^#]*hostonly" /etc/dracut.conf /etc/dracut.conf.d/*.conf /usr/lib/dracut/dracut.conf.d/*.conf || true']);
      notes.push(`dracut ${version}: active configuration sets ${conf.stdout.trim().replace(/\n/g, '; ') || 'no hostonly= (so dracut builds --no-hostonly images by default)'}`);
      push(await attempt(`${name} dracut --no-hostonly`, () => generatorRow(root, 'dracut --no-hostonly', ['dracut', '--force', '--no-hostonly', `${outDir}/dracut-generic.img`, kver], `${outDir}/dracut-generic.img`)));
      if (withHostonly) {
        push(
          await attempt(`${name} dracut --hostonly`, () =>
            generatorRow(
              root,
              'dracut --hostonly (fixture)',
              ['dracut', '--force', '--hostonly', '--add', 'crypt lvm resume', '--add-drivers', drivers.join(' '), `${outDir}/dracut-hostonly.img`, kver],
              `${outDir}/dracut-hostonly.img`,
            ),
          ),
        );
      }
    }
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

function printTable(r: Result): void {
  const v = r.versions;
  console.log(`\n## ${r.toolchain}: mkosi ${v.mkosi}, systemd ${v.systemd}, kernel ${r.kernelVersion}, initramfs-tools ${v['initramfs-tools'] ?? '-'}, dracut ${v.dracut ?? '-'}`);
  console.log(`${'image'.padEnd(32)} ${'build s'.padStart(8)} ${'compressed MiB'.padStart(15)} ${'unpacked MiB'.padStart(13)}  compression`);
  for (const row of r.rows) {
    console.log(`${row.name.padEnd(32)} ${row.seconds.toFixed(1).padStart(8)} ${mib(row.compressed).padStart(15)} ${mib(row.unpacked).padStart(13)}  ${row.compression}`);
  }
  const ours = r.rows.filter((x) => x.name.startsWith('mkosi-initrd'));
  const others = r.rows.filter((x) => !x.name.startsWith('mkosi-initrd'));
  if (others.length) {
    console.log('ratios (mkosi-initrd / other):        build time   compressed   unpacked');
    for (const o of ours) {
      for (const x of others) {
        console.log(`  ${`${o.name.replace('mkosi-initrd', 'default').replace('default --slim', 'slim')} / ${x.name}`.padEnd(44)} ${(o.seconds / x.seconds).toFixed(2).padStart(6)} ${(o.compressed / x.compressed).toFixed(2).padStart(12)} ${(o.unpacked / x.unpacked).toFixed(2).padStart(10)}`);
      }
    }
  }
  for (const o of ours) {
    const p = o.packages;
    console.log(p ? `${o.name}: previewed ${p.previewed}, built ${p.built}, ${p.equal ? 'equal' : `NOT EQUAL (only previewed: ${p.onlyPreviewed.join(' ') || '-'}; only built: ${p.onlyBuilt.join(' ') || '-'})`}` : `${o.name}: packages NOT COMPARED (the build could not compare preview and log)`);
  }
  for (const o of ours) {
    const rp = o.reproducible;
    if (rp) console.log(`${o.name}: reproducible: ${rp.differing} differing members (goal 0)${rp.differing ? ` — ${rp.causes.join('; ')}` : ''}; the check added ${rp.extraSeconds.toFixed(0)} s`);
  }
  for (const n of r.notes) console.log(`note: ${n}`);
}

async function toolchain(name: Name): Promise<void> {
  const started = performance.now();
  const notes: string[] = [];
  let productRoot = '/';
  let genRoot: string;
  let kver: string;
  if (name === 'bookworm') {
    kver = kernelIn('/');
    genRoot = await ensureBookwormChroot('/var/tmp/bench-bookworm', kver, ['kmod', 'cpio', 'zstd', 'udev', 'systemd']);
    notes.push(`the product ran on this host; initramfs-tools and dracut in a bookworm chroot (/var/tmp/bench-bookworm) with this host's ${kver} modules`);
  } else {
    // Two copies: the product builds in one as the toolchain tests build in the shared chroot; the generators
    // (and what apt brings with them, e.g. console-setup's /etc/default/keyboard) go into the other.
    const shared = await ensureChroot(name);
    productRoot = await reusableCopy(shared, `/var/tmp/bench-${name}`);
    genRoot = await reusableCopy(shared, `/var/tmp/bench-${name}-gen`);
    kver = kernelIn(productRoot);
    notes.push(`the product ran in ${productRoot}, initramfs-tools and dracut in ${genRoot} (copies of ${shared})`);
  }
  const versions: Record<string, string> = {
    mkosi: firstLine((await run(productRoot, ['mkosi', '--version'])).stdout).replace(/^mkosi\s+/, ''),
    systemd: /systemd (\S+)/.exec((await run(productRoot, ['systemctl', '--version'])).stdout)?.[1] ?? '?',
  };
  const outDir = '/var/tmp/iw-bench';
  await mkdir(path.join(productRoot, outDir), { recursive: true });
  const rows: Row[] = [];
  for (const slim of [false, true]) {
    const row = await attempt(`${name} mkosi-initrd${slim ? ' --slim' : ''}`, () => productBuild(productRoot, kver, slim, outDir));
    if (row) rows.push(row);
  }
  rows.push(...(await generators(name, genRoot, kver, versions, notes)));
  for (const o of rows.filter((x) => x.name.startsWith('mkosi-initrd'))) {
    if (!o.packages) failures.push(`${name} ${o.name}: packages not compared`);
    else if (!o.packages.equal || o.packages.previewed !== o.packages.built) failures.push(`${name} ${o.name}: previewed ${o.packages.previewed} != built ${o.packages.built}`);
  }
  notes.push(`toolchain wall time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const result = { toolchain: name, kernelVersion: kver, versions, rows, notes };
  results.push(result);
  printTable(result);
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`# bench:slow — fixture ${FIXTURE}, ${os.cpus().length} CPUs, load average at start ${load()}`);
const t0 = performance.now();
for (const name of wanted as Name[]) {
  try {
    await toolchain(name);
  } catch (e) {
    failures.push(`${name}: ${(e as Error).stack ?? String(e)}`);
    console.log(`\n## ${name}: FAILED\n${(e as Error).message}`);
  }
}
console.log(`\nload average at end ${load()}; total ${((performance.now() - t0) / 60000).toFixed(1)} min`);

// One markdown table for the README.
console.log('\n| toolchain | image | build (s) | compressed (MiB) | unpacked (MiB) | packages previewed/built |');
console.log('|---|---|---:|---:|---:|---|');
for (const r of results) {
  for (const row of r.rows) {
    console.log(`| ${r.toolchain} (mkosi ${r.versions.mkosi}, ${r.kernelVersion}) | ${row.name}${row.name.startsWith('dracut') ? ` ${r.versions.dracut}` : row.name.startsWith('initramfs-tools') ? ` ${r.versions['initramfs-tools']}` : ''} | ${row.seconds.toFixed(0)} | ${mib(row.compressed)} | ${mib(row.unpacked)} | ${row.packages ? `${row.packages.previewed}/${row.packages.built}${row.packages.equal ? '' : ' DIFFER'}` : ''} |`);
  }
}
console.log('\n| toolchain | differing members between two builds (goal 0) | extra build time of the check (s) |');
console.log('|---|---:|---:|');
for (const r of results) {
  const rp = r.rows.find((x) => x.reproducible)?.reproducible;
  console.log(`| ${r.toolchain} (mkosi ${r.versions.mkosi}) | ${rp ? rp.differing : 'not measured'} | ${rp ? rp.extraSeconds.toFixed(0) : '-'} |`);
}
if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify({ fixture: FIXTURE, results, failures }, null, 2));
if (failures.length) {
  console.error(`\nbench:slow FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exitCode = 1;
}
