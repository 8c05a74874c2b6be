/**
 * Ink's (input, key) pair → one key name, so every screen reads the same
 * vocabulary and vi keys are just aliases. Text entry (search) asks for the
 * raw character instead.
 */
export type KeyName =
  | 'up' | 'down' | 'left' | 'right' | 'pageup' | 'pagedown' | 'home' | 'end'
  | 'enter' | 'esc' | 'space' | 'tab' | 'backspace' | 'ctrl-c' | 'ctrl-u' | 'ctrl-d'
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
  if (key.ctrl && input === 'd') return 'ctrl-d';
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
