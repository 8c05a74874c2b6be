/** `cryptsetup luksDump --dump-json-metadata` (LUKS2) and plain `luksDump` text (LUKS1). */
import { parsed, parseFailure, type Parsed } from '../../errors.js';

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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return parseFailure(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
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

export function parseLuksDumpText(text: string): Parsed<LuksHeader> {
  const version = /^Version:\s*(\d+)/m.exec(text)?.[1];
  if (!version) return parseFailure('no "Version:" line: not cryptsetup luksDump output');
  if (version !== '1' && version !== '2') return parseFailure(`unknown LUKS version ${version}`);
  const cipherName = /^Cipher name:\s*(\S+)/m.exec(text)?.[1];
  const cipherMode = /^Cipher mode:\s*(\S+)/m.exec(text)?.[1];
  const keyslots = (text.match(/^Key Slot \d+: ENABLED/gm) ?? []).length + (text.match(/^\s+\d+: luks2/gm) ?? []).length;
  const tokens = [...text.matchAll(/^\s+\d+: (systemd-\S+|clevis\S*)/gm)].map((m) => m[1]!);
  return parsed({
    version: version === '1' ? 1 : 2,
    tokens,
    keyslots,
    cipher: cipherName ? `${cipherName}${cipherMode ? `-${cipherMode}` : ''}` : null,
    integrity: /^\s+integrity:/m.test(text),
  });
}
