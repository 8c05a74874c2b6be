/** Files shipped with the package (profiles/, the demo snapshot), found from the running module. */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from './errors.js';
import { formatArgv } from './system/run.js';

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

const real = (p: string): string | null => {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
};

/** The first file named `name` on PATH that is `target` (after links), or null. */
function onPath(name: string, target: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && real(path.join(dir, name)) === target);
}

let invoked: string | null = null;

/**
 * How the user runs this program, for the commands it prints: "initrd-wizard"
 * when that name on PATH is this very program, else node and the script's
 * path (`npm run demo` runs dist/bin/initrd-wizard.js with no initrd-wizard
 * installed anywhere).
 */
export function invocation(): string {
  if (invoked) return invoked;
  const script = process.argv[1] ? real(process.argv[1]) : null;
  // Not started as the CLI (a test runner, an embedding program): the installed name is the best guess.
  if (!script || !/initrd-wizard(\.js)?$/.test(script)) return (invoked = 'initrd-wizard');
  if (onPath('initrd-wizard', script)) return (invoked = 'initrd-wizard');
  const node = onPath('node', real(process.execPath) ?? process.execPath) ? 'node' : process.execPath;
  return (invoked = `${node} ${script}`);
}

/** What a bug report needs, said the same way by the CLI and both wizard paths. */
export function reportHint(): string {
  return `please report this with the output of \`${commandLine('snapshot')}\``;
}

/** A command of this program the user can paste into their shell: `initrd-wizard revert --root '/my root'`. */
export function commandLine(...args: string[]): string {
  return args.length ? `${invocation()} ${formatArgv(args)}` : invocation();
}
