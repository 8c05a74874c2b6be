/**
 * Reading host files relative to a root, so tests and `--root DIR` point every
 * read at a temporary tree. (Writes that change the host live in install/.)
 */
import { readFile, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

export interface HostFs {
  root: string;
  /** Resolves an absolute host path inside the root. */
  resolve(hostPath: string): string;
  /** File content, or null when absent. Other errors (EACCES …) are thrown. */
  read(hostPath: string): Promise<string | null>;
  list(hostPath: string): Promise<string[] | null>;
  realpath(hostPath: string): Promise<string | null>;
  readlink(hostPath: string): Promise<string | null>;
}

function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function hostFs(root = '/'): HostFs {
  const base = path.resolve(root);
  const resolve = (hostPath: string) => path.join(base, path.resolve('/', hostPath));
  const orNull = async <T>(fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (err) {
      if (isAbsent(err)) return null;
      throw err;
    }
  };
  return {
    root: base,
    resolve,
    read: (p) => orNull(() => readFile(resolve(p), 'utf8')),
    list: (p) => orNull(() => readdir(resolve(p))),
    realpath: (p) => orNull(async () => {
      const real = await realpath(resolve(p));
      return base === '/' ? real : '/' + path.relative(base, real);
    }),
    readlink: (p) => orNull(() => readlink(resolve(p))),
  };
}
