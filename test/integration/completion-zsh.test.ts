/**
 * The zsh completion, in a real interactive zsh (in tmux) with compinit
 * loading completions/_initrd-wizard: Tab completes commands, choices,
 * kernels, directories where a directory is asked for, and no file name
 * where the value is free text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, tempDir } from '../helpers.js';
import { startSession, type TmuxSession } from '../support/tmux.js';

const zsh = spawnSync('zsh', ['--version'], { stdio: 'ignore' }).status === 0;
const tmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
const skip = !zsh ? 'zsh is not installed (Debian package: zsh; .ci/run installs it)' : !tmux ? 'tmux is not installed' : false;

const PROMPT = 'zsh> ';

/** Types LINE, presses Tab, and returns the screen once it shows what `expected` says (tmux drops a line's trailing spaces). */
async function tab(s: TmuxSession, line: string, expected: RegExp): Promise<string> {
  await s.keys('C-c');
  await s.keys('C-l');
  await s.waitFor(/^zsh>$/m);
  await s.type(line);
  await s.keys('Tab');
  return s.waitFor(expected);
}

test('zsh completes commands, choices, kernels, directories for a directory, and nothing for free text', { skip, timeout: 60_000 }, async () => {
  const { dir, cleanup } = await tempDir('iw-zsh-');
  const home = path.join(dir, 'home');
  const cwd = path.join(dir, 'cwd');
  await mkdir(home);
  await mkdir(path.join(cwd, 'snapshots'), { recursive: true });
  await writeFile(path.join(cwd, 'web01.tar'), '');
  await writeFile(
    path.join(home, '.zshrc'),
    [`PS1='${PROMPT}'`, `fpath=(${JSON.stringify(path.join(ROOT, 'completions'))} $fpath)`, `autoload -Uz compinit && compinit -u -d ${JSON.stringify(path.join(home, '.zcompdump'))}`, ''].join('\n'),
  );
  const s = await startSession({ argv: ['zsh', '-i'], cols: 120, rows: 30, cwd, env: { ZDOTDIR: home, HOME: home } });
  try {
    await s.waitFor(/^zsh>/m, { timeoutMs: 15_000 });

    await tab(s, 'initrd-wizard exp', /^zsh> initrd-wizard export ?$/m);
    // The short spelling of an option completes like its long one: export's output is a directory.
    await tab(s, 'initrd-wizard export -o ', /^zsh> initrd-wizard export -o snapshots\/$/m);
    let screen = await tab(s, 'initrd-wizard export --format ', /mkosi\s+rpm-spec/);
    assert.doesNotMatch(screen, /web01\.tar/);
    // fleet reads archives and directories of them.
    screen = await tab(s, 'initrd-wizard fleet ', /snapshots\//);
    assert.match(screen, /web01\.tar/);

    // Kernels with modules on this machine, not file names.
    const kernels = existsSync('/usr/lib/modules') ? readdirSync('/usr/lib/modules', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
    if (kernels.length === 1) await tab(s, 'initrd-wizard build --kernel-version ', new RegExp(`^zsh> initrd-wizard build --kernel-version ${kernels[0]!.replace(/[.+]/g, '\\$&')} ?$`, 'm'));
    else if (kernels.length > 1) {
      screen = await tab(s, 'initrd-wizard build --kernel-version ', new RegExp(kernels[0]!.replace(/[.+]/g, '\\$&')));
      for (const k of kernels) assert.ok(screen.includes(k), k);
    }

    // A package list is free text: Tab offers no file, where a file option does (the control).
    await tab(s, 'initrd-wizard build --output web', /^zsh> initrd-wizard build --output web01\.tar ?$/m);
    await tab(s, 'initrd-wizard closure --packages web', /^zsh> initrd-wizard closure --packages web$/m);
    await new Promise((r) => setTimeout(r, 300));
    screen = await s.capture();
    assert.match(screen, /^zsh> initrd-wizard closure --packages web$/m, 'the line stays as typed');
    assert.doesNotMatch(screen, /web01\.tar/);
  } finally {
    await s.kill();
    await cleanup();
  }
});
