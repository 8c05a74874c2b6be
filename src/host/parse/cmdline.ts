/** Kernel command line → ordered key/value pairs, with quotes handled as the kernel does. */

export type Cmdline = Array<{ key: string; value: string | null }>;

export function parseCmdline(text: string): Cmdline {
  const out: Cmdline = [];
  const s = text.replace(/\s+--\s.*$/s, ''); // everything after " -- " goes to init
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let token = '';
    let quoted = false;
    while (i < s.length && (quoted || !/\s/.test(s[i]!))) {
      if (s[i] === '"') quoted = !quoted;
      else token += s[i];
      i++;
    }
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
