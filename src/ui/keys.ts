/**
 * Ink's (input, key) pair → one key name, so every screen reads the same
 * vocabulary and vi keys are just aliases. Text entry (search) asks for the
 * raw character instead.
 */
export type KeyName =
  | 'up' | 'down' | 'left' | 'right' | 'pageup' | 'pagedown' | 'home' | 'end'
  | 'enter' | 'esc' | 'space' | 'tab' | 'backspace' | 'ctrl-c' | 'ctrl-u'
  | `char:${string}`;

export interface InkKey {
  upArrow?: boolean; downArrow?: boolean; leftArrow?: boolean; rightArrow?: boolean;
  pageUp?: boolean; pageDown?: boolean; home?: boolean; end?: boolean;
  return?: boolean; escape?: boolean; tab?: boolean; backspace?: boolean; delete?: boolean;
  ctrl?: boolean; meta?: boolean; shift?: boolean;
}

export function keyName(input: string, key: InkKey): KeyName | null {
  if (key.ctrl && input === 'c') return 'ctrl-c';
  if (key.ctrl && input === 'u') return 'ctrl-u';
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape) return 'esc';
  if (key.tab) return 'tab';
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl || key.meta) return null;
  if (input === ' ') return 'space';
  if (input.length === 1) return `char:${input}`;
  return null;
}

/**
 * Keys typed faster than the terminal is read (or pasted) arrive as one
 * string: each character is its own key, in order.
 */
export function keyNames(input: string, key: InkKey): KeyName[] {
  const one = keyName(input, key);
  if (one) return [one];
  if (input.length > 1 && !key.ctrl && !key.meta) return [...input].map((ch) => (ch === ' ' ? 'space' : ch === '\r' ? 'enter' : (`char:${ch}` as KeyName)));
  return [];
}

/** Movement keys with their vi aliases; null for anything else. */
export function motion(k: KeyName): 'up' | 'down' | 'pageup' | 'pagedown' | 'home' | 'end' | null {
  switch (k) {
    case 'up': case 'char:k': return 'up';
    case 'down': case 'char:j': return 'down';
    case 'pageup': case 'ctrl-u': return 'pageup';
    case 'pagedown': return 'pagedown';
    case 'home': case 'char:g': return 'home';
    case 'end': case 'char:G': return 'end';
    default: return null;
  }
}

export const isBack = (k: KeyName) => k === 'esc' || k === 'left' || k === 'char:h';
export const isForward = (k: KeyName) => k === 'enter' || k === 'right' || k === 'char:l' || k === 'char:n';
