/** Files shipped with the package (profiles/, the demo snapshot), found from the running module. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from './errors.js';

let cached: string | null = null;

/** The package root: the folder holding package.json and profiles/ (src/ runs under tsx, dist/src/ when built). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'profiles', 'base.ini')) && existsSync(path.join(dir, 'package.json'))) return (cached = dir);
    dir = path.dirname(dir);
  }
  throw new InputError('cannot find the profiles/ folder next to the program', 'reinstall initrd-wizard');
}

/** The snapshot `--demo` and the README quickstart run against: a real capture from a QEMU guest. */
export const DEMO_SNAPSHOT = 'btrfs-luks-tpm2-hibernate';

export function fixtureSnapshot(name: string): string {
  return path.join(packageRoot(), 'test', 'fixtures', 'snapshots', name);
}
