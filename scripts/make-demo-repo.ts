/**
 * Regenerates the demo's bundled rpm-md repository (demo/repo) from Debian's
 * real package graph (`apt-cache dumpavail` of the machine's apt lists): a
 * repository of distribution size, so the demo's closure, fuzzy search and
 * why-chains run on real dependencies. Only primary.xml is kept (xz), as the
 * demo never needs file lists. Run: node --import tsx scripts/make-demo-repo.ts
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { convertDebToRpmMd } from '../test/support/deb2rpmmd.js';

const out = path.resolve(process.argv[2] ?? 'demo/repo');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const work = await mkdtemp(path.join(os.tmpdir(), 'iw-demo-repo-'));
try {
  const dump = execFileSync('apt-cache', ['-o', 'Dir::State::status=/dev/null', 'dumpavail'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const { packages } = await convertDebToRpmMd(dump, work);
  const gz = (await readdir(path.join(work, 'repodata'))).find((f) => f.endsWith('-primary.xml.gz'))!;
  const open = gunzipSync(await readFile(path.join(work, 'repodata', gz)));
  const xz = execFileSync('xz', ['-9', '-c', '-T1'], { input: open, maxBuffer: 1 << 30 });
  await rm(path.join(out, 'repodata'), { recursive: true, force: true });
  await mkdir(path.join(out, 'repodata'), { recursive: true });
  const sum = sha256(xz);
  const href = `repodata/${sum}-primary.xml.xz`;
  await writeFile(path.join(out, href), xz);
  await writeFile(
    path.join(out, 'repodata', 'repomd.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm"><revision>1</revision>` +
      `<data type="primary"><checksum type="sha256">${sum}</checksum><open-checksum type="sha256">${sha256(open)}</open-checksum>` +
      `<location href="${href}"/><timestamp>1</timestamp><size>${xz.length}</size><open-size>${open.length}</open-size></data></repomd>\n`,
  );
  console.log(`${out}: ${packages} packages, primary ${(xz.length / 1048576).toFixed(1)} MiB (xz)`);
} finally {
  await rm(work, { recursive: true, force: true });
}
