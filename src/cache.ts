/** Where initrd-wizard keeps what it can rebuild (metadata, build records, images): $XDG_CACHE_HOME/initrd-wizard, else ~/.cache/initrd-wizard. */
import os from 'node:os';
import path from 'node:path';

export function cacheDir(sub: 'metadata' | 'builds' | 'images'): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'initrd-wizard', sub);
}
