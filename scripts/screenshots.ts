/**
 * `npm run screenshots`: runs the built `initrd-wizard --demo` in tmux at
 * 120x40, walks every screen as a user would, captures each real frame with
 * its colours and renders it to screenshots/NN-name.png (scripts/frame-image.ts:
 * xterm.js headless and resvg, no browser). Needs tmux and fonts-dejavu-core.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSession, type TmuxSession } from '../test/support/tmux.js';
import { frameToPng } from './frame-image.js';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist', 'bin', 'initrd-wizard.js');
const outDir = path.join(root, 'screenshots');
const COLS = 120;
const ROWS = 40;

const work = await mkdtemp(path.join(os.tmpdir(), 'iw-shots-'));
const env = { CI: undefined, XDG_CACHE_HOME: path.join(work, 'cache'), INITRD_WIZARD_CONFIG_DIR: path.join(work, 'config'), TMPDIR: work, NO_COLOR: undefined };
await mkdir(outDir, { recursive: true });

let n = 0;
async function shot(s: TmuxSession, name: string, title: string) {
  const frame = await s.capture({ ansi: true });
  const file = path.join(outDir, `${String(++n).padStart(2, '0')}-${name}.png`);
  await writeFile(file, await frameToPng(frame, { cols: COLS, rows: ROWS, title }));
  await writeFile(file.replace(/\.png$/, '.txt'), (await s.capture()).replace(/\s+$/gm, '') + '\n');
  console.log(`${path.relative(root, file)}  (${title})`);
}

const s = await startSession({ argv: [process.execPath, cli, '--demo'], cols: COLS, rows: ROWS, env });
try {
  await s.waitFor('Storage the initrd must bring up', { timeoutMs: 15_000 });
  await shot(s, 'host', 'Host: the storage stack, features and findings');
  await s.keys('Enter');
  await s.waitFor('Variant: 5 profiles');
  // Turn on nfs (it brings network along) for the picture, then off again.
  for (let i = 0; i < 10; i++) await s.keys('Down');
  await s.keys('Space');
  await s.waitFor('required by nfs');
  await shot(s, 'variant', 'Variant: profiles with why, toggled live');
  await s.keys('Space');
  await s.waitFor(/Variant: 5 profiles/);
  await s.keys('Enter');
  await s.waitFor('Packages:');
  await s.type('/plymou');
  await s.waitFor(/> plymouth\s/, { timeoutMs: 30_000 });
  await shot(s, 'packages-search', 'Packages: fuzzy search over 63,666 names');
  await s.keys('Enter');
  await s.waitFor('+ plymouth');
  await s.keys('Enter');
  await s.waitFor(/Closure: \d+ packages/, { timeoutMs: 30_000 });
  for (let i = 0; i < 5; i++) await s.keys('Down');
  await s.waitFor(/^> /m);
  await shot(s, 'closure', 'Closure: sizes, why-chains, what drops without it');
  await s.keys('Enter');
  await s.type('b');
  await s.waitFor(/log \(last \d+ of (1\d\d|200) lines\)/, { timeoutMs: 30_000 });
  await shot(s, 'build-running', 'Build: progress and log tail (ctrl-c cancels)');
  await s.waitFor('Built and verified', { timeoutMs: 30_000 });
  await shot(s, 'build-done', 'Build: the image checked against the host');
  await s.keys('Enter');
  await s.waitFor('Review:');
  await shot(s, 'review', 'Review: every file install will touch');
  await s.type('y');
  await s.waitFor('Undo everything');
  await shot(s, 'installed', 'Install: applied, with the one-command revert');
  await s.type('?');
  await s.waitFor('Keys');
  await shot(s, 'help', 'Help: every key');
  await s.type('x');
  await s.type('q');
  await s.waitForExit(10_000);
} finally {
  await s.kill();
  await rm(work, { recursive: true, force: true });
}
