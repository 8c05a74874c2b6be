/**
 * Does an installed kernel-install plugin that makes or links an initrd
 * (dracut's 50-dracut.install and 51-dracut-rescue.install, Debian's
 * 55-initrd.install) step aside when another initrd generator is configured?
 * Read from the plugin's text, since the builds differ:
 * - Fedora's and dracut 106+'s 50-dracut.install:
 *   `if [[ "${KERNEL_INSTALL_INITRD_GENERATOR:-dracut}" = "dracut" ]]; then … else exit 0; fi`
 * - 51-dracut-rescue.install: `elif [[ "${…:-dracut}" != "dracut" ]]; then exit 0`
 * - systemd 257's Debian 55-initrd.install links /boot/initrd.img-KVER whatever
 *   initrd_generator says; Debian sid's (systemd 262) exits when
 *   `[ -n "${KERNEL_INSTALL_INITRD_GENERATOR:-}" ]`.
 * A plugin that does not step aside must be masked, or it writes its initrd
 * over mkosi-initrd's (dracut) or beside it (55-initrd), and the kernel
 * unpacks both.
 */
export interface DracutPlugin {
  path: string;
  yields: boolean;
  reason: string;
}

const VAR = /KERNEL_INSTALL_INITRD_GENERATOR/;
const EXIT0 = /(^|[\s;&|])exit(\s+0)?\s*(;|$)/;

/** The script's statements, one per line, without comments and blank lines. */
function statements(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** What a test of the generator variable is true for. */
function testKind(line: string): 'set' | 'not-dracut' | 'dracut' | null {
  if (/-n\s+"?\$\{?KERNEL_INSTALL_INITRD_GENERATOR/.test(line)) return 'set';
  if (/KERNEL_INSTALL_INITRD_GENERATOR[^=!]*"?\s*!=\s*"?dracut/.test(line)) return 'not-dracut';
  if (/KERNEL_INSTALL_INITRD_GENERATOR[^=!]*"?\s*==?\s*"?dracut/.test(line)) return 'dracut';
  return null;
}

/** The statements of the branch that starts after line i (an if/elif/else), up to its else/elif/fi. */
function branchAfter(lines: string[], i: number): { body: string[]; end: number } {
  const body: string[] = [];
  let depth = 0;
  let j = i + 1;
  // "if …; then" may carry "then" on the next line.
  if (!/\bthen\b/.test(lines[i]!) && /^(if|elif)\b/.test(lines[i]!) && lines[j] === 'then') j++;
  for (; j < lines.length; j++) {
    const l = lines[j]!;
    if (/^if\b/.test(l) && !/\bfi\s*;?\s*$/.test(l)) depth++;
    if (depth === 0 && (/^(else|elif)\b/.test(l) || /^fi\b/.test(l))) break;
    if (/^fi\b/.test(l)) depth--;
    body.push(l);
  }
  return { body, end: j };
}

const exitsFirst = (body: string[]) => body.length > 0 && EXIT0.test(body[0]!) && !/exit\s+[1-9]/.test(body[0]!);

function stepsAside(lines: string[]): boolean {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!VAR.test(l)) continue;
    // case "${KERNEL_INSTALL_INITRD_GENERATOR:-dracut}" in dracut) ;; *) exit 0 ;; esac
    if (/^case\b/.test(l)) {
      for (let j = i + 1; j < lines.length && !/^esac\b/.test(lines[j]!); j++) {
        if (/^\*\)/.test(lines[j]!) && (EXIT0.test(lines[j]!.slice(2)) || EXIT0.test(lines[j + 1] ?? ''))) return true;
      }
      continue;
    }
    const kind = testKind(l);
    if (!kind) continue;
    const exitOnTrue = kind === 'set' || kind === 'not-dracut';
    // One-line forms: [ … != dracut ] && exit 0; [ "${…:-dracut}" = dracut ] || exit 0
    if (exitOnTrue && /&&\s*exit(\s+0)?\s*(;|$)/.test(l)) return true;
    if (!exitOnTrue && /\|\|\s*exit(\s+0)?\s*(;|$)/.test(l)) return true;
    if (!/^(if|elif)\b/.test(l)) continue;
    const then = branchAfter(lines, i);
    if (exitOnTrue && exitsFirst(then.body)) return true;
    if (!exitOnTrue && lines[then.end] !== undefined && /^else\b/.test(lines[then.end]!)) {
      const rest = lines[then.end]!.replace(/^else\s*;?\s*/, '');
      if (rest ? EXIT0.test(rest) : exitsFirst(branchAfter(lines, then.end).body)) return true;
    }
  }
  return false;
}

export function analyzeDracutPlugin(path: string, text: string): DracutPlugin {
  const lines = statements(text);
  const yields = stepsAside(lines);
  const name = path.split('/').pop() ?? path;
  const links = /initrd\.img-/.test(text) && !/\bdracut\s+(-f|--force|--kver)/.test(text);
  let reason: string;
  if (yields) reason = 'it exits when initrd_generator names another generator, so it stays enabled';
  else if (links)
    reason = 'it links /boot/initrd.img-KVER (which initramfs-tools and dracut write) into the staging area whatever initrd_generator says, so the boot entry would carry a second initrd beside mkosi-initrd\'s';
  else if (name.includes('rescue')) reason = 'it builds a dracut rescue initrd whatever initrd_generator says';
  else reason = lines.some((l) => VAR.test(l)) ? 'it reads initrd_generator but does not clearly step aside for another generator, so it could write its initrd over mkosi-initrd\'s' : 'it ignores initrd_generator and would write its initrd over mkosi-initrd\'s';
  return { path, yields, reason };
}

/** install.conf / kernel-install settings: the same key=value shape as os-release. */
export { parseKeyValue as readInstallConf } from '../host/parse/keyvalue.js';
