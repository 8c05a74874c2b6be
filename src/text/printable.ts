/**
 * Text from snapshots, package metadata and subprocesses comes from other
 * machines: an ESC in a mount point could retitle the terminal or hide the
 * NOT SUPPORTED section (\e[8m). Everything shown is passed through here:
 * control characters become visible escapes, never reach the terminal raw.
 */

/**
 * C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI),
 * the Unicode line/paragraph separators, and the bidirectional overrides that
 * reorder what a reader sees.
 */
const UNPRINTABLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const n = c.codePointAt(0)!;
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** Text as a terminal may show it: tabs and newlines kept, every other control character shown as \xNN. */
export function printable(text: string): string {
  UNPRINTABLE.lastIndex = 0;
  return UNPRINTABLE.test(text) ? text.replace(UNPRINTABLE, escape) : text;
}

/** One line for a terminal: as printable(), and a newline shown too (a field must not break a row). */
export function printableLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n');
}

/**
 * A JSON document as the terminal may show it: JSON.stringify already escapes
 * C0, but leaves DEL, C1 and the separators raw; \uXXXX is the same string to
 * any JSON reader.
 */
export function jsonForTerminal(json: string): string {
  return json.replace(/[\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
