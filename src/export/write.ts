/**
 * Writes an export's files as one new directory, all or nothing (see
 * src/system/newdir.ts): readable by others, as a build may run as another user.
 */
import { InputError } from '../errors.js';
import { checkNewDirectory, writeNewDirectory } from '../system/newdir.js';
import type { ExportFile } from './layout.js';

const EXPORT = {
  noun: 'export',
  badName: (rel: string) => new InputError(`"${rel}" is not a file name inside the exported directory`, 'report this: the export produced an unexpected name'),
  fileMode: 0o644,
  dirMode: 0o755,
};

/** Refuses an output it must not touch; true when it is an empty directory to replace. */
export function checkExportOutput(target: string): Promise<boolean> {
  return checkNewDirectory(target, EXPORT.noun);
}

export function writeExportDirectory(output: string, files: readonly ExportFile[]): Promise<string> {
  return writeNewDirectory(output, files, EXPORT);
}
