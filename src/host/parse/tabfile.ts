/**
 * Parsers for whitespace-separated table files: /etc/fstab, /etc/crypttab,
 * /proc/swaps. A line that does not fit becomes a warning naming the file and
 * line; the rest of the file is still used.
 */
import { parsed, type Parsed } from '../../errors.js';
import { quoteForMessage } from './text.js';

/** Undo the octal escapes (\040 for space) that fstab, crypttab and /proc/swaps use. */
export function unescapeOctal(s: string): string {
  // Most fields have no escapes: skip the replace (fstab files may have tens of thousands of lines).
  return s.includes('\\') ? s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) : s;
}

function fields(line: string): string[] {
  return line.trim().split(/\s+/).map(unescapeOctal);
}

function contentLines(text: string): Array<{ no: number; line: string }> {
  const out: Array<{ no: number; line: string }> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const t = line.trim();
    if (t && !t.startsWith('#')) out.push({ no: i + 1, line: t });
  });
  return out;
}

export interface FstabEntry {
  spec: string;
  file: string;
  vfstype: string;
  options: string[];
}

export function parseFstab(text: string, name = 'fstab'): Parsed<FstabEntry[]> {
  const entries: FstabEntry[] = [];
  const warnings: string[] = [];
  for (const { no, line } of contentLines(text)) {
    const f = fields(line);
    if (f.length < 3 || f.length > 6 || (f[4] !== undefined && !/^\d+$/.test(f[4])) || (f[5] !== undefined && !/^\d+$/.test(f[5]))) {
      warnings.push(`${name} line ${no}: expected "device mountpoint type [options [dump [pass]]]", ignored: ${quoteForMessage(line, 80)}`);
      continue;
    }
    entries.push({ spec: f[0]!, file: f[1]!, vfstype: f[2]!, options: (f[3] ?? 'defaults').split(',').filter(Boolean) });
  }
  return parsed(entries, warnings);
}

export interface CrypttabEntry {
  name: string;
  device: string;
  /** null for "none", "-" or absent: ask for a passphrase (or use a token). */
  keyFile: string | null;
  options: Map<string, string | true>;
  line: number;
}

export function parseCrypttab(text: string, name = 'crypttab'): Parsed<CrypttabEntry[]> {
  const entries: CrypttabEntry[] = [];
  const warnings: string[] = [];
  for (const { no, line } of contentLines(text)) {
    const f = fields(line);
    if (f.length < 2 || f.length > 4 || !/^[^/\s]+$/.test(f[0]!)) {
      warnings.push(`${name} line ${no}: expected "name device [keyfile [options]]", ignored: ${quoteForMessage(line, 80)}`);
      continue;
    }
    const options = new Map<string, string | true>();
    for (const opt of (f[3] ?? '').split(',').filter(Boolean)) {
      const eq = opt.indexOf('=');
      if (eq < 0) options.set(opt, true);
      else options.set(opt.slice(0, eq), opt.slice(eq + 1));
    }
    const key = f[2];
    entries.push({ name: f[0]!, device: f[1]!, keyFile: !key || key === 'none' || key === '-' ? null : key, options, line: no });
  }
  return parsed(entries, warnings);
}

export interface SwapEntry {
  filename: string;
  type: string;
}

export function parseSwaps(text: string): Parsed<SwapEntry[]> {
  const entries: SwapEntry[] = [];
  const warnings: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || (i === 0 && line.startsWith('Filename'))) return;
    const f = fields(line);
    if (f.length < 2 || !f[0]!.startsWith('/')) {
      warnings.push(`swaps line ${i + 1}: not a swap entry, ignored: ${quoteForMessage(line, 80)}`);
      return;
    }
    entries.push({ filename: f[0]!, type: f[1]! });
  });
  return parsed(entries, warnings);
}
