/**
 * Fleets of hosts for tests and benches, made from the real captures: every
 * file is a hard link to one copy, so thousands of hosts cost directory
 * entries, not gigabytes, while each is still opened and read on its own.
 */
import { link, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadSnapshot, writeSnapshot } from '../../src/host/snapshot.js';
import { fixture, fixtureNames } from '../helpers.js';

export async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to);
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isDirectory()) await linkTree(path.join(from, e.name), path.join(to, e.name));
    else await link(path.join(from, e.name), path.join(to, e.name));
  }
}

/**
 * `n` hosts named host000000… in `dir` (created), as snapshot directories or
 * FILE.tar archives; host i is capture (i × stride) mod the number of captures.
 * The archives' originals are written once into `scratch`.
 */
export async function makeFleet(dir: string, scratch: string, n: number, form: 'dir' | 'tar', stride = 1): Promise<void> {
  const names = await fixtureNames();
  if (form === 'tar') {
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    for (const name of names) await writeSnapshot(await loadSnapshot(fixture(name)), path.join(scratch, `${name}.tar`));
  }
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const name = names[(i * stride) % names.length]!;
    const host = path.join(dir, `host${String(i).padStart(6, '0')}`);
    if (form === 'tar') await link(path.join(scratch, `${name}.tar`), `${host}.tar`);
    else await linkTree(fixture(name), host);
  }
}
