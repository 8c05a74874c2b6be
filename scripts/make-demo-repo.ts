/**
 * Regenerates the demo's Debian package list (demo/debian/Packages.xz) from
 * this machine's apt lists (`apt-cache dumpavail`, Debian 12 on the recording
 * machine): the real package graph, so the demo's preview, fuzzy search and
 * why-chains run on real dependencies, and apt's selectors (?essential, the
 * libtss2 patterns) work as in a real build. Only the fields the resolver
 * reads are kept. Run: node --import tsx scripts/make-demo-repo.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const KEEP = /^(Package|Version|Architecture|Installed-Size|Essential|Priority|Provides|Depends|Pre-Depends|Recommends|Multi-Arch):/;
const out = path.resolve(process.argv[2] ?? 'demo/debian/Packages.xz');
const dump = execFileSync('apt-cache', ['-o', 'Dir::State::status=/dev/null', 'dumpavail'], { encoding: 'utf8', maxBuffer: 1 << 30 });
let keep = false;
const kept: string[] = [];
for (const line of dump.split('\n')) {
  if (line === '') keep = false;
  else if (!/^\s/.test(line)) keep = KEEP.test(line);
  if (keep || line === '') kept.push(line);
}
const xz = execFileSync('xz', ['-9', '-c', '-T2'], { input: kept.join('\n'), maxBuffer: 1 << 30 });
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, xz);
console.log(`${out}: ${kept.filter((l) => l.startsWith('Package:')).length} packages, ${(xz.length / 1048576).toFixed(1)} MiB (xz)`);
