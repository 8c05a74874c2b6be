/**
 * mkosi's configuration syntax, which is not INI: `#` starts a comment,
 * indented lines continue the previous value, keys repeat (lists append, an
 * empty assignment resets), sections repeat, and a setting outside a section
 * is an error. Parsing keeps every line's raw text so a file round-trips byte
 * for byte.
 */
import { parsed, parseFailure, type Parsed } from '../errors.js';

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
      const prev = [...lines].reverse().find((l) => l.kind !== 'comment');
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

const SAFE_VALUE = /^[^\s#,]+$/;

/**
 * Writes a drop-in. Lists go one item per line (first item on the key line,
 * the rest indented): never space-separated on one line, which older mkosi
 * passed to the package manager as one name.
 */
export function renderDropIn(header: string[], sections: DropInSection[]): string {
  const out: string[] = header.map((h) => (h ? `# ${h}` : '#'));
  for (const s of sections) {
    if (!KEY.test(s.name)) throw new Error(`invalid section name ${s.name}`);
    if (out.length) out.push('');
    out.push(`[${s.name}]`);
    for (const setting of s.settings) {
      if (!KEY.test(setting.key)) throw new Error(`invalid setting name ${setting.key}`);
      if (!setting.values.length) continue;
      for (const v of setting.values) if (!SAFE_VALUE.test(v)) throw new Error(`${setting.key}: "${v}" cannot be written safely (space, comma or #)`);
      if (setting.comment) out.push(`# ${setting.comment}`);
      const indent = ' '.repeat(setting.key.length + 1);
      out.push(`${setting.key}=${setting.values[0]}`);
      for (const v of setting.values.slice(1)) out.push(`${indent}${v}`);
    }
  }
  return out.join('\n') + '\n';
}
