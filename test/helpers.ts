import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'snapshots');
export const CLI = path.join(ROOT, 'dist', 'bin', 'initrd-wizard.js');

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

export async function fixtureNames(): Promise<string[]> {
  if (!existsSync(FIXTURES)) return [];
  return (await readdir(FIXTURES, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

export interface CliRun {
  code: number;
  /** The signal that ended the process, if one did (fault injection kills with SIGKILL). */
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs the built binary as a user would. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, signal: err?.signal ?? null, stdout, stderr });
    });
  });
}

export async function tempDir(prefix = 'iw-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const isRoot = process.getuid?.() === 0;
