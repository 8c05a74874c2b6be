/**
 * Values from another machine shown to a person or carried into a message.
 * Terminal control (ESC, BEL, C1), line and paragraph separators and bidi
 * overrides can rewrite or hide what is on screen, and several of them start a
 * new line for Python's str.splitlines() (mkosi's configuration reader).
 */

/** Control characters (C0, DEL, C1), U+2028/U+2029 and the bidi embedding/override/isolate characters. */
const CONTROL = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** Display text with every control character removed (for values that are only ever shown). */
export function stripControls(s: string): string {
  return s.replace(CONTROL, '');
}

/**
 * A value quoted in a message: printable ASCII as is, everything else escaped
 * (\xNN, \u{NNNN}), cut to `max` characters so a hostile value cannot flood the output.
 */
export function quoteForMessage(s: string, max = 60): string {
  let out = '';
  for (const ch of s) {
    if (out.length >= max) return `${out}…`;
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f) out += ch;
    else out += cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  }
  return out;
}
