/** `npm run docs`: the man page and shell completions from the CLI's own command definitions (src/clidocs.ts). */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bashCompletion, manPage, zshCompletion } from '../src/clidocs.js';

const root = path.resolve(import.meta.dirname, '..');
export const DOC_FILES = { 'man/initrd-wizard.1': manPage, 'completions/initrd-wizard.bash': bashCompletion, 'completions/_initrd-wizard': zshCompletion };
for (const [rel, make] of Object.entries(DOC_FILES)) {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), make());
  console.log(rel);
}
