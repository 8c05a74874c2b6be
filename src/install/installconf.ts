/**
 * Edits kernel-install's install.conf: sets keys, keeps every other line and
 * comment byte for byte, replaces an existing value instead of adding a
 * second one.
 */
import { BugError } from '../errors.js';

const KEY_LINE = (key: string) => new RegExp(`^\\s*${key}\\s*=`);

export function setInstallConfKeys(text: string, keys: Array<[string, string]>): string {
  // kernel-install sources this file as shell variables: only plain words may be written.
  for (const [k, v] of keys) if (!/^[a-z_]+$/.test(k) || !/^[A-Za-z0-9._-]+$/.test(v)) throw new BugError(`unsafe install.conf setting ${k}=${v}`);
  const hadFinalNewline = text === '' || text.endsWith('\n');
  let lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  for (const [key, value] of keys) {
    let seen = false;
    lines = lines.flatMap((line) => {
      if (!KEY_LINE(key).test(line)) return [line];
      if (seen) return []; // a duplicate of the key: kernel-install would read the last one
      seen = true;
      return [`${key}=${value}`];
    });
    if (!seen) lines.push(`${key}=${value}`);
  }
  return lines.join('\n') + (hadFinalNewline || lines.length ? '\n' : '');
}
