/**
 * Reading host files relative to a root, so tests and `--root DIR` point every
 * read at a temporary tree. Links are followed as if the root were "/"
 * (a distribution's /etc/os-release points into /usr/lib), never out of it;
 * only regular files are read, each capped. (Writes live in install/.)
 */
import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { LIMITS } from '../limits.js';
import { listBeneath, lstatBeneath, readBeneath, resolveBeneath } from './rooted.js';

export interface HostFs {
  root: string;
  /** The host path joined to the root, for messages and external programs: never opened here. */
  resolve(hostPath: string): string;
  /** File content, or null when absent. Other errors (EACCES, a FIFO, too large …) are thrown. */
  read(hostPath: string): Promise<string | null>;
  list(hostPath: string): Promise<string[] | null>;
  /** The path with every link resolved inside the root. */
  realpath(hostPath: string): Promise<string | null>;
  readlink(hostPath: string): Promise<string | null>;
  /** stat() of what the path leads to inside the root; null when absent. */
  stat(hostPath: string): Promise<Stats | null>;
}

/** A regular file at that path (links followed inside the root); false for anything else or nothing. */
export async function isFile(fs: HostFs, hostPath: string): Promise<boolean> {
  return (await fs.stat(hostPath).catch(() => null))?.isFile() ?? false;
}

export function hostFs(root = '/'): HostFs {
  const base = path.resolve(root);
  const resolve = (hostPath: string) => path.join(base, path.resolve('/', hostPath));
  return {
    root: base,
    resolve,
    read: async (p) => (await readBeneath(base, p, { maxBytes: LIMITS.configFileBytes, follow: 'in-root', what: p }))?.toString('utf8') ?? null,
    list: async (p) => (await listBeneath(base, p, 'in-root'))?.map((d) => d.name) ?? null,
    realpath: async (p) => {
      const r = await resolveBeneath(base, p, 'in-root');
      if (!r) return null;
      try {
        // Every link is resolved; the last component may still be missing.
        if (r.name === null) return r.hostPath;
        return (await lstat(r.parent.entry(r.name)).catch(() => null)) ? r.hostPath : null;
      } finally {
        await r.parent.close();
      }
    },
    readlink: async (p) => {
      const r = await resolveBeneath(base, p, 'never').catch(() => null);
      if (!r || r.name === null) return null;
      try {
        return await readlink(r.parent.entry(r.name)).catch(() => null);
      } finally {
        await r.parent.close();
      }
    },
    stat: async (p) => lstatBeneath(base, p, 'in-root'),
  };
}
