/**
 * The exported mkosi-initrd configuration directory, as data: the drop-in the
 * build renders (export mode: it names no host path), the files of its extra
 * trees under the mkosi.extra/ beside it, and the README. Pure: the service
 * reads the trees' files and writes the result.
 *
 *   README.md
 *   mkosi.conf.d/50-initrd-wizard-export/mkosi.conf
 *   mkosi.conf.d/50-initrd-wizard-export/mkosi.extra/...
 *
 * mkosi reads a directory in mkosi.conf.d/ as a configuration of its own and
 * adds the mkosi.extra/ beside its mkosi.conf as an extra tree (mkosi 24.3 to
 * 26 alike), so the directory works wherever mkosi-initrd reads configuration
 * from, and as mkosi --include=DIR.
 */
import { BugError, InputError } from '../errors.js';
import { EXTRA_TREE_DIR, type ExtraTree, type RenderedConfig } from '../mkosi/render.js';

export const EXPORT_DROP_IN_DIR = 'mkosi.conf.d/50-initrd-wizard-export';
export const EXPORT_DROP_IN = `${EXPORT_DROP_IN_DIR}/mkosi.conf`;
export const EXPORT_EXTRA = `${EXPORT_DROP_IN_DIR}/mkosi.extra`;

/** Whose kernel modules the initrd keeps (as `build --json` says it): the building machine's, a snapshot's, or none beyond the named ones. */
export type ModuleSource = 'live' | 'generic' | 'snapshot' | 'snapshot-without-modules';

/** A file in the exported directory: its path relative to it, and its bytes. */
export type ExportFile = readonly [string, string | Buffer];

/** A file a tree carries: its path in the image, and its bytes. */
export interface TreeFile {
  target: string;
  content: string | Buffer;
}

/** Paths that go into the directory (and, for a spec, into a tar archive and shell lines): plain characters only. */
const SAFE_PATH = /^\/(?:[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*\/)*[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$/;

export function checkImagePath(p: string): void {
  if (!SAFE_PATH.test(p) || p.split('/').some((c) => c === '.' || c === '..') || p.length > 200) {
    throw new InputError(`${JSON.stringify(p)} cannot go into the exported directory: an image path is absolute, of letters, digits and _ . @ + -, without . or .. components`, 'check where it came from (a profile\'s host files, or mkosi\'s profile tree)');
  }
}

/** Where a tree's file lands in the image: the tree's target plus the file's path inside the tree. */
export function imagePath(tree: ExtraTree, inside: string): string {
  const base = tree.target.replace(/\/+$/, '');
  const p = inside ? `${base}/${inside}` : tree.target;
  return p.startsWith('/') ? p : `/${p}`;
}

/** The generated files (RenderedConfig.files, under EXTRA_TREE_DIR) as files of their tree. */
export function generatedTreeFiles(config: Pick<RenderedConfig, 'files'>, tree: ExtraTree): TreeFile[] {
  if (tree.source !== EXTRA_TREE_DIR) return [];
  const out: TreeFile[] = [];
  for (const [hostPath, content] of config.files) {
    if (!hostPath.startsWith(`${EXTRA_TREE_DIR}/`)) throw new BugError(`generated file ${hostPath} is outside ${EXTRA_TREE_DIR}`);
    out.push({ target: imagePath(tree, hostPath.slice(EXTRA_TREE_DIR.length + 1)), content });
  }
  return out;
}

/**
 * The directory's files. `trees` holds each extra tree's files in the
 * drop-in's order; a later tree's file replaces an earlier one at the same
 * path, as mkosi applies ExtraTrees=.
 */
export function exportFiles(config: Pick<RenderedConfig, 'text'>, trees: TreeFile[][], readme: string): ExportFile[] {
  const extra = new Map<string, string | Buffer>();
  for (const files of trees) {
    for (const f of files) {
      checkImagePath(f.target);
      extra.set(f.target, f.content);
    }
  }
  const sorted = [...extra.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [['README.md', readme], [EXPORT_DROP_IN, config.text], ...sorted.map(([p, c]): ExportFile => [`${EXPORT_EXTRA}${p}`, c])];
}
