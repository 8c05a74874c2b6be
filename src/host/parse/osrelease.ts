/**
 * os-release(5), from a snapshot or a root: untrusted. ID, ID_LIKE and
 * VERSION_ID end up in configuration file comments (mkosi's drop-in), where a
 * \x1c, \r or U+2028 would start a new line that mkosi reads as a setting. So
 * they are checked here against the syntax os-release(5) gives them, and a
 * value outside it is dropped (treated as absent) with a warning: nothing
 * downstream ever sees it. PRETTY_NAME and NAME are only shown: their control
 * characters are removed.
 */
import { parsed, type Parsed } from '../../errors.js';
import { quoteForMessage, stripControls } from './text.js';

export interface OsRelease {
  id: string | null;
  idLike: string[];
  versionId: string | null;
  versionCodename: string | null;
  prettyName: string | null;
  name: string | null;
}

/** ID, each ID_LIKE entry, VERSION_CODENAME: "lower-case string (no spaces or other characters outside of 0–9, a–z, ".", "_" and "-")". */
export const OS_RELEASE_ID = /^[a-z0-9._-]+$/;
/** VERSION_ID: "lower-case string (mostly numeric, no spaces or other characters outside of 0–9, a–z, ".", "_" and "-")"; upper case and "~" occur in the wild. */
export const OS_RELEASE_VERSION_ID = /^[a-zA-Z0-9._~-]+$/;

/**
 * Syntactically valid, but the names of Object.prototype members: an id is a
 * lookup key in plain objects downstream (profile sections), where these
 * would find inherited functions instead of nothing. No distribution uses them.
 */
const RESERVED_IDS = new Set(['constructor', '__proto__']);

const isId = (v: string) => OS_RELEASE_ID.test(v) && !RESERVED_IDS.has(v);

/** Display names longer than this are cut: a real PRETTY_NAME is a few dozen characters. */
const MAX_DISPLAY = 200;

/** One assignment's value with shell quoting undone: "…" (with \" \\ \$ \` escapes), '…', or bare. */
function unquote(raw: string): string {
  const q = raw[0];
  if ((q === '"' || q === "'") && raw.length >= 2 && raw.endsWith(q)) {
    const inner = raw.slice(1, -1);
    return q === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
  }
  return raw;
}

/** KEY=value pairs; lines are split on "\n" only, so any other separator stays inside a value and fails its check. */
function assignments(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^[ \t]+|[ \t]+$/g, '');
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(line);
    if (m) out.set(m[1]!, unquote(m[2]!));
  }
  return out;
}

function invalid(key: string, value: string, rule: string): string {
  return `${key} "${quoteForMessage(value)}" is not a valid os-release value (${rule}); ignored`;
}

export function parseOsRelease(text: string): Parsed<OsRelease> {
  const kv = assignments(text);
  const warnings: string[] = [];
  const checked = (key: string, valid: (v: string) => boolean, rule: string): string | null => {
    const v = kv.get(key);
    if (v === undefined || v === '') return null;
    if (valid(v)) return v;
    warnings.push(invalid(key, v, rule));
    return null;
  };
  const idRule = 'lower-case a-z, 0-9, ".", "_", "-"';
  const idLike: string[] = [];
  for (const entry of (kv.get('ID_LIKE') ?? '').split(/[ \t]+/).filter(Boolean)) {
    if (isId(entry)) idLike.push(entry);
    else warnings.push(invalid('ID_LIKE', entry, `entries are ${idRule}`));
  }
  const display = (key: string): string | null => {
    const v = kv.get(key);
    if (v === undefined) return null;
    const clean = stripControls(v).trim();
    return clean ? (clean.length > MAX_DISPLAY ? `${clean.slice(0, MAX_DISPLAY)}…` : clean) : null;
  };
  return parsed(
    {
      id: checked('ID', isId, idRule),
      idLike,
      versionId: checked('VERSION_ID', (v) => OS_RELEASE_VERSION_ID.test(v), 'a-z, A-Z, 0-9, ".", "_", "~", "-"'),
      versionCodename: checked('VERSION_CODENAME', (v) => OS_RELEASE_ID.test(v), idRule),
      prettyName: display('PRETTY_NAME'),
      name: display('NAME'),
    },
    warnings,
  );
}
