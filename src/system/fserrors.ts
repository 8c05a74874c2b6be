/**
 * An errno from the file system, said in words with the path and what to do.
 * EACCES/EPERM/EROFS/ENOSPC are conditions of the machine, not bugs: they must
 * never reach the user as "internal error".
 */
import { WizardError } from '../errors.js';

const WORDS: Record<string, { said: string; hint: string }> = {
  EACCES: { said: 'permission denied', hint: 'run as root (sudo), or check the permissions of the directory' },
  EPERM: { said: 'operation not permitted (the file or its directory may be immutable: see lsattr)', hint: 'clear the immutable flag (chattr -i) or run as root, then run again' },
  EROFS: { said: 'the file system is read-only', hint: 'remount it read-write (mount -o remount,rw …), then run again' },
  ENOSPC: { said: 'no space left on the device', hint: 'free some space on that file system, then run again' },
  EDQUOT: { said: 'the disk quota is exhausted', hint: 'free some space or raise the quota, then run again' },
  EIO: { said: 'an input/output error (the device may be failing)', hint: 'check the disk (dmesg), then run again' },
  EMFILE: { said: 'too many open files', hint: 'raise the open-file limit (ulimit -n), then run again' },
  ENFILE: { said: 'too many open files on the system', hint: 'close other programs, then run again' },
  ETXTBSY: { said: 'the file is busy', hint: 'wait for the program using it to finish, then run again' },
  EBUSY: { said: 'the file or directory is busy (a mount point?)', hint: 'unmount or stop what uses it, then run again' },
  ENAMETOOLONG: { said: 'the path is too long', hint: 'use a shorter --root' },
  ELOOP: { said: 'a symlink was found where none may be', hint: 'replace the link with the real file or directory' },
};

export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for an error this module can say in words. */
export function isKnownFsError(err: unknown): boolean {
  const code = errnoCode(err);
  return code !== undefined && code in WORDS;
}

/** `action`: what was being done, e.g. "writing /etc/kernel/install.conf". */
export function fsError(err: unknown, action: string, outcome?: string): WizardError {
  if (err instanceof WizardError) return err;
  const code = errnoCode(err);
  const w = code ? WORDS[code] : undefined;
  const detail = w ? `${w.said} (${code})` : err instanceof Error ? err.message : String(err);
  return new WizardError(`${action} failed: ${detail}${outcome ? `; ${outcome}` : ''}`, { hint: w?.hint ?? 'check the file system, then run again' });
}
