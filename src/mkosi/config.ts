/**
 * mkosi's configuration syntax, which is not INI: `#` starts a comment,
 * indented lines continue the previous value, keys repeat (lists append, an
 * empty assignment resets), sections repeat, and a setting outside a section
 * is an error. Parsing keeps every line's raw text so a file round-trips byte
 * for byte.
 */
import { BugError, InputError, parsed, parseFailure, type Parsed } from '../errors.js';

export type ConfigLine =
  | { kind: 'blank'; raw: string }
  | { kind: 'comment'; raw: string }
  | { kind: 'section'; name: string; raw: string }
  | { kind: 'setting'; section: string; key: string; value: string; raw: string };

export interface MkosiConfig {
  lines: ConfigLine[];
  /** Whether the text ended with a newline, so serialising gives the same bytes. */
  finalNewline: boolean;
}

const KEY = /^[A-Za-z][A-Za-z0-9]*$/;
const SECTION = /^\[([A-Za-z][A-Za-z0-9]*)\]\s*$/;

function stripComment(line: string): string {
  const i = line.indexOf('#');
  return i < 0 ? line : line.slice(0, i);
}

export function parseMkosiConfig(text: string, file = 'mkosi.conf'): Parsed<MkosiConfig> {
  const lines: ConfigLine[] = [];
  let section: string | null = null;
  const raw = text.split('\n');
  // A trailing newline is not an extra blank line.
  const finalNewline = text.endsWith('\n');
  if (finalNewline) raw.pop();
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    const content = stripComment(line);
    if (!content.trim()) {
      lines.push(line.trim() ? { kind: 'comment', raw: line } : { kind: 'blank', raw: line });
      continue;
    }
    if (/^\s/.test(line)) {
      // mkosi skips blank and comment lines: an indented value after them still continues the setting.
      const prev = [...lines].reverse().find((l) => l.kind !== 'comment' && l.kind !== 'blank');
      if (!prev || prev.kind !== 'setting') return parseFailure(`${file} line ${i + 1}: an indented line continues nothing`);
      prev.value += `\n${content.trim()}`;
      prev.raw += `\n${line}`;
      continue;
    }
    const sec = SECTION.exec(content.trim());
    if (sec) {
      section = sec[1]!;
      lines.push({ kind: 'section', name: section, raw: line });
      continue;
    }
    const eq = content.indexOf('=');
    if (eq < 0) return parseFailure(`${file} line ${i + 1}: expected "Key=value" or "[Section]"`);
    const key = content.slice(0, eq).trim();
    if (!KEY.test(key)) return parseFailure(`${file} line ${i + 1}: "${key}" is not a setting name`);
    if (!section) return parseFailure(`${file} line ${i + 1}: ${key}= is outside any [Section]`);
    lines.push({ kind: 'setting', section, key, value: content.slice(eq + 1).trim(), raw: line });
  }
  return parsed({ lines, finalNewline });
}

export function serializeMkosiConfig(config: MkosiConfig): string {
  return config.lines.map((l) => l.raw).join('\n') + (config.finalNewline ? '\n' : '');
}

/** A list setting's effective items: values split on commas and whitespace, appended per occurrence, reset by an empty one. */
export function listSetting(config: MkosiConfig, section: string, key: string): string[] {
  let items: string[] = [];
  for (const l of config.lines) {
    if (l.kind !== 'setting' || l.section !== section || l.key !== key) continue;
    const parts = l.value.split(/[\s,]+/).filter(Boolean);
    if (!parts.length) items = [];
    else items.push(...parts);
  }
  return items;
}

/** A scalar setting's effective value: the last assignment wins. */
export function scalarSetting(config: MkosiConfig, section: string, key: string): string | null {
  let v: string | null = null;
  for (const l of config.lines) if (l.kind === 'setting' && l.section === section && l.key === key) v = l.value;
  return v;
}

export interface DropInSection {
  name: string;
  settings: Array<{ key: string; values: string[]; comment?: string }>;
}

/**
 * Characters that end a line for mkosi, which splits files with Python's
 * str.splitlines(): not only \n but \r, \v, \f, \x1c–\x1e, \x85, U+2028 and
 * U+2029. Any of them in a value or comment would start a line of its own
 * choosing (an injected `ExtraTrees=/etc/shadow:…`), so none may be written;
 * nor any other control character.
 */
const UNSAFE_TEXT = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/;

/** What each setting may hold, declared once; a value outside it is refused, never escaped. */
export const VALUE_RULES: Record<string, { pattern: RegExp; allows: string }> = {
  // Package names (Debian: [a-z0-9+.-]; rpm adds _, ~, capitals) and mkosi's glob patterns.
  Packages: { pattern: /^[A-Za-z0-9_+][A-Za-z0-9_.+~@:*-]{0,255}$/, allows: 'letters, digits and _ . + ~ @ : - *' },
  RemovePackages: { pattern: /^[A-Za-z0-9_+][A-Za-z0-9_.+~@:*-]{0,255}$/, allows: 'letters, digits and _ . + ~ @ : - *' },
  // Regular expressions this tool builds from module names: /name.ko with [-_] classes.
  KernelModulesInclude: { pattern: /^\/?[A-Za-z0-9_[\]\-\\.]{1,255}$/, allows: 'module names (letters, digits, - and _)' },
  // SOURCE:TARGET, both absolute, no mkosi % specifiers.
  ExtraTrees: { pattern: /^\/[A-Za-z0-9_./@+-]{0,1023}:\/[A-Za-z0-9_./@+-]{0,1023}$/, allows: 'two absolute paths of letters, digits and _ . / @ + -' },
  RemoveFiles: { pattern: /^\/[A-Za-z0-9_./@+*-]{0,1023}$/, allows: 'an absolute path or glob of letters, digits and _ . / @ + - *' },
};

/** Refuses text that could end a line or hide in a terminal; `what` names its origin for the message. */
export function checkConfigText(text: string, what: string): void {
  const bad = UNSAFE_TEXT.exec(text);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).padStart(4, '0');
    throw new InputError(`${what} contains the control character U+${code.toUpperCase()}, which would start a new line in mkosi's configuration: refusing to write it`, 'fix the value where it comes from (it is not something a real system has)');
  }
}

export function checkSettingValue(key: string, value: string, what = `${key}=`): void {
  checkConfigText(value, `${what} value ${JSON.stringify(value)}`);
  const rule = VALUE_RULES[key];
  if (rule ? !rule.pattern.test(value) : /[\s#,%]/.test(value)) {
    throw new InputError(`${what} value ${JSON.stringify(value)} cannot go into mkosi's configuration: ${rule ? `it allows ${rule.allows}` : 'no spaces, commas, # or %'}`, 'remove or correct that value, then run again');
  }
}

/**
 * Writes a drop-in. Lists go one item per line (first item on the key line,
 * the rest indented): never space-separated on one line, which older mkosi
 * passed to the package manager as one name. Every comment and value is
 * checked first: a drop-in is read as root by every kernel update.
 */
export function renderDropIn(header: string[], sections: DropInSection[]): string {
  for (const h of header) checkConfigText(h, 'a comment line');
  const out: string[] = header.map((h) => (h ? `# ${h}` : '#'));
  for (const s of sections) {
    if (!KEY.test(s.name)) throw new BugError(`invalid section name ${s.name}`);
    if (out.length) out.push('');
    out.push(`[${s.name}]`);
    for (const setting of s.settings) {
      if (!KEY.test(setting.key)) throw new BugError(`invalid setting name ${setting.key}`);
      if (!setting.values.length) continue;
      for (const v of setting.values) checkSettingValue(setting.key, v);
      if (setting.comment) {
        checkConfigText(setting.comment, 'a comment line');
        out.push(`# ${setting.comment}`);
      }
      const indent = ' '.repeat(setting.key.length + 1);
      out.push(`${setting.key}=${setting.values[0]}`);
      for (const v of setting.values.slice(1)) out.push(`${indent}${v}`);
    }
  }
  return out.join('\n') + '\n';
}
