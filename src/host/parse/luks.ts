/** `cryptsetup luksDump --dump-json-metadata` (LUKS2) and plain `luksDump` text (LUKS1). */
import { parsed, parseFailure, type Parsed } from '../../errors.js';
import { parseJsonText } from './json.js';

export interface LuksHeader {
  version: 1 | 2;
  /** Token types, e.g. systemd-tpm2, systemd-fido2, systemd-pkcs11, systemd-recovery, clevis. */
  tokens: string[];
  keyslots: number;
  cipher: string | null;
  /** LUKS2 with authenticated encryption (dm-integrity underneath). */
  integrity: boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseLuks2Json(text: string): Parsed<LuksHeader> {
  const r = parseJsonText(text);
  if (!r.ok) return r;
  const json = r.value;
  if (!isObject(json) || !isObject(json.keyslots) || !isObject(json.segments)) {
    return parseFailure('no "keyslots"/"segments": not LUKS2 JSON metadata');
  }
  const tokens: string[] = [];
  if (isObject(json.tokens)) {
    for (const t of Object.values(json.tokens)) if (isObject(t) && typeof t.type === 'string') tokens.push(t.type);
  }
  let cipher: string | null = null;
  let integrity = false;
  for (const seg of Object.values(json.segments)) {
    if (!isObject(seg)) continue;
    if (typeof seg.encryption === 'string') cipher ??= seg.encryption;
    if (isObject(seg.integrity)) integrity = true;
  }
  return parsed({ version: 2, tokens, keyslots: Object.keys(json.keyslots).length, cipher, integrity });
}

// Indentation is matched with [ \t], not \s: with the m flag, \s+ after ^ also eats
// newlines, and a file of blank lines made every line start a quadratic scan.
export function parseLuksDumpText(text: string): Parsed<LuksHeader> {
  const version = /^Version:[ \t]*(\d+)/m.exec(text)?.[1];
  if (!version) return parseFailure('no "Version:" line: not cryptsetup luksDump output');
  if (version !== '1' && version !== '2') return parseFailure(`unknown LUKS version ${version.slice(0, 20)}`);
  const cipherName = /^Cipher name:[ \t]*(\S+)/m.exec(text)?.[1];
  const cipherMode = /^Cipher mode:[ \t]*(\S+)/m.exec(text)?.[1];
  const keyslots = (text.match(/^Key Slot \d+: ENABLED/gm) ?? []).length + (text.match(/^[ \t]+\d+: luks2/gm) ?? []).length;
  const tokens = [...text.matchAll(/^[ \t]+\d+: (systemd-\S+|clevis\S*)/gm)].map((m) => m[1]!);
  return parsed({
    version: version === '1' ? 1 : 2,
    tokens,
    keyslots,
    cipher: cipherName ? `${cipherName}${cipherMode ? `-${cipherMode}` : ''}` : null,
    integrity: /^[ \t]+integrity:/m.test(text),
  });
}
