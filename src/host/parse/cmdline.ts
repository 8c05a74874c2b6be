/** Kernel command line → ordered key/value pairs, with quotes handled as the kernel does. */

export type Cmdline = Array<{ key: string; value: string | null }>;

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

export function parseCmdline(text: string): Cmdline {
  const out: Cmdline = [];
  const s = text;
  let i = 0;
  while (i < s.length) {
    while (i < s.length && isSpace(s[i]!)) i++;
    if (i >= s.length) break;
    let token = '';
    let quoted = false;
    let sawQuote = false;
    while (i < s.length && (quoted || !isSpace(s[i]!))) {
      if (s[i] === '"') {
        quoted = !quoted;
        sawQuote = true;
      } else token += s[i];
      i++;
    }
    // A bare "--" ends the kernel's part: everything after it goes to init. (Found by
    // tokenizing, not by /\s+--\s.*$/, which backtracks quadratically on long runs of spaces.)
    if (token === '--' && !sawQuote && i < s.length) break;
    const eq = token.indexOf('=');
    out.push(eq < 0 ? { key: token, value: null } : { key: token.slice(0, eq), value: token.slice(eq + 1) });
  }
  return out;
}

/** The last value given for a key (the kernel and systemd use the last one). */
export function cmdlineValue(cmdline: Cmdline, key: string): string | null {
  let v: string | null = null;
  for (const e of cmdline) if (e.key === key && e.value !== null) v = e.value;
  return v;
}

export function cmdlineHas(cmdline: Cmdline, key: string): boolean {
  return cmdline.some((e) => e.key === key);
}
