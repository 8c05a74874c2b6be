/**
 * Every flag and subcommand a user is told about exists: the hints, notes,
 * profiles and README name only what `initrd-wizard` accepts (or another
 * tool's flag, on a line that names that tool).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildProgram } from '../../src/cli.js';
import { ROOT } from '../helpers.js';

/** Other tools' flags, allowed on a line that names the tool. */
const FOREIGN: Record<string, RegExp> = {
  '--forcearch': /\bdnf/,
  '--queryformat': /\b(dnf|rpm|repoquery)/,
  '--include': /\bmkosi/,
  '--header-backup-file': /cryptsetup/,
  '--extra-tree': /\bmkosi/,
};

async function files(dir: string, match: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p, match)));
    else if (match.test(e.name)) out.push(p);
  }
  return out;
}

/** The lines a user can read: sources without their comments, the profiles, the README and docs/. */
async function userText(): Promise<Array<{ where: string; line: string }>> {
  const out: Array<{ where: string; line: string }> = [];
  const sources = await files(path.join(ROOT, 'src'), /\.tsx?$/);
  const rest = [...(await files(path.join(ROOT, 'profiles'), /\.ini$/)), path.join(ROOT, 'README.md'), ...(await files(path.join(ROOT, 'docs'), /\.md$/))];
  for (const f of [...sources, ...rest]) {
    const code = f.endsWith('.ts') || f.endsWith('.tsx');
    (await readFile(f, 'utf8')).split('\n').forEach((line, i) => {
      const t = line.trim();
      if (code && (t.startsWith('//') || t.startsWith('*') || t.startsWith('/*'))) return;
      out.push({ where: `${path.relative(ROOT, f)}:${i + 1}`, line: code ? line.replace(/\s\/\/ .*$/, '') : line });
    });
  }
  return out;
}

test('every --flag and subcommand named in user-facing text exists', async () => {
  const program = buildProgram({ stdout: () => undefined, stderr: () => undefined }, () => undefined);
  const global = new Set(program.options.map((o) => o.long!).concat(['--help', '--version']));
  const byCommand = new Map(program.commands.map((c) => [c.name(), new Set([...c.options.map((o) => o.long!), '--help', ...global])]));
  const all = new Set([...global, ...[...byCommand.values()].flatMap((s) => [...s])]);
  const wrong: string[] = [];
  let checked = 0;
  for (const { where, line } of await userText()) {
    // "pass --x", "with --x", "or --x" …: a flag the user is told to use.
    for (const m of line.matchAll(/\b(?:pass|passing|with|add|use|or|rerun with|run with) (--[a-z][a-z0-9-]*)/g)) {
      checked++;
      const flag = m[1]!;
      if (all.has(flag) || FOREIGN[flag]?.test(line)) continue;
      wrong.push(`${where}: ${flag} (no command takes it)`);
    }
    // "initrd-wizard build … --x": that command takes it.
    for (const m of line.matchAll(/initrd-wizard(?: ([a-z][a-z-]*))?((?: [^ `'"|]+)*?) (--[a-z][a-z0-9-]*)/g)) {
      checked++;
      const [, word, , flag] = m as unknown as [string, string | undefined, string, string];
      const known = word === undefined ? global : byCommand.get(word);
      if (!known && word && !/^(or|and|with|on|in|is|as|to|for|runs|the)$/.test(word)) {
        wrong.push(`${where}: initrd-wizard ${word} (no such command)`);
        continue;
      }
      if (!(known ?? global).has(flag) && !all.has(flag)) wrong.push(`${where}: initrd-wizard ${word ?? ''} ${flag}`);
      else if (known && !known.has(flag)) wrong.push(`${where}: initrd-wizard ${word} does not take ${flag}`);
    }
  }
  assert.ok(checked > 30, `only ${checked} mentions found: the scan is not reading the text`);
  assert.deepEqual(wrong, []);
});
