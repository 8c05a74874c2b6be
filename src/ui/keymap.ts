/**
 * Every key the wizard answers to, declared once. The controller looks a key
 * up here to know what it means on the screen at hand, the footer lists what
 * is offered right now, and `?` prints the whole table: the three cannot
 * disagree, because none of them has its own list.
 */
import type { KeyName } from './keys.js';
import type { ScreenId } from './state.js';

export type CommandId =
  | 'up' | 'down' | 'pageup' | 'pagedown' | 'home' | 'end'
  | 'next' | 'back' | 'help' | 'quit'
  | 'save-snapshot' | 'toggle-profile'
  | 'search' | 'restore-saved' | 'discard-saved' | 'toggle-package'
  | 'toggle-removal'
  | 'build' | 'cancel-build' | 'format' | 'reproducible'
  | 'apply' | 'regenerate';

/** What the keys depend on, read from the state by the controller. */
export interface KeyContext {
  screen: ScreenId;
  unsupported: boolean;
  /** Saved choices from an earlier run are offered (the Packages banner). */
  savedOffered: boolean;
  build: 'idle' | 'running' | 'done' | 'failed' | 'cancelled';
  /** The reviewed plan: none yet, nothing to change, or changes to apply. */
  review: 'none' | 'empty' | 'changes';
  /** Regenerate is possible now (installed, not yet run, supported here). */
  canRegenerate: boolean;
}

/** One line of a key table: what some keys mean, when, and how the footer and `?` say it. */
export interface BindingOf<Id extends string, C> {
  id: Id;
  keys: KeyName[];
  /** Whether the keys mean this now (an earlier binding wins; a key with no binding does nothing). */
  when?: (c: C) => boolean;
  /** Footer words after the first key, or null for help only. */
  footer: string | ((c: C) => string) | null;
  /** How the footer writes the keys, when not by the first key that means this here. */
  footerKeys?: string;
  /** Kept out of the footer in this context though the key still answers (with a notice). */
  hideIn?: (c: C) => boolean;
  /** The line in `?`; bindings with the same text share a line. */
  help: string;
  /** Footer words shown dimmed, after the ones that move the work on (help, quit). */
  quiet?: boolean;
}

export interface Binding extends BindingOf<CommandId, KeyContext> {
  /** Screens it works on; none: all of them. */
  screens?: ScreenId[];
}

/** The movement keys of every list, in every table. */
const MOVE_KEYS = {
  up: ['up', 'char:k'],
  down: ['down', 'char:j'],
  pageup: ['pageup', 'ctrl-u'],
  pagedown: ['pagedown', 'ctrl-d'],
  home: ['home', 'char:g'],
  end: ['end', 'char:G'],
} as const satisfies Record<string, KeyName[]>;

const LISTS: ScreenId[] = ['host', 'variant', 'packages', 'closure', 'review'];
const STEPS: ScreenId[] = ['host', 'variant', 'packages', 'closure', 'build'];
const notRunning = (c: KeyContext) => c.build !== 'running';

export const BINDINGS: readonly Binding[] = [
  { id: 'up', keys: [...MOVE_KEYS.up], screens: LISTS, footerKeys: '↑↓', footer: (c) => (c.screen === 'host' || c.screen === 'review' ? 'scroll' : 'move'), help: 'move the selection or scroll' },
  { id: 'down', keys: [...MOVE_KEYS.down], screens: LISTS, footer: null, help: 'move the selection or scroll' },
  { id: 'pageup', keys: [...MOVE_KEYS.pageup], screens: LISTS, footer: null, help: 'a page up or down' },
  { id: 'pagedown', keys: [...MOVE_KEYS.pagedown], screens: LISTS, footer: null, help: 'a page up or down' },
  { id: 'home', keys: [...MOVE_KEYS.home], screens: LISTS, footer: null, help: 'first / last row' },
  { id: 'end', keys: [...MOVE_KEYS.end], screens: LISTS, footer: null, help: 'first / last row' },
  { id: 'save-snapshot', keys: ['char:s'], screens: ['host'], footer: 'save snapshot', help: 'Host: save a snapshot for a bug report' },
  { id: 'toggle-profile', keys: ['space', 'char:x'], screens: ['variant'], footer: 'toggle profile', help: 'Variant: turn the selected profile on or off' },
  { id: 'restore-saved', keys: ['char:r'], screens: ['packages'], when: (c) => c.savedOffered, footer: 'restore saved', help: 'Packages: restore the choices saved by an earlier run (while offered)' },
  { id: 'discard-saved', keys: ['char:x'], screens: ['packages'], when: (c) => c.savedOffered, footer: 'discard saved', help: 'Packages: discard the saved choices, after asking (while offered)' },
  { id: 'toggle-package', keys: ['space', 'char:x', 'char:d'], screens: ['packages'], footer: 'remove/restore', help: 'Packages: remove or restore the selected package' },
  { id: 'search', keys: ['char:/', 'char:a'], screens: ['packages'], footer: 'search & add', help: 'Packages: search every package by name; ⏎ adds' },
  { id: 'toggle-removal', keys: ['space', 'char:x'], screens: ['closure'], footer: 'remove/restore', help: 'Closure: ask the build to remove the selected package, or take that back' },
  { id: 'build', keys: ['char:b'], screens: ['build'], when: notRunning, footer: 'build', help: 'Build: build the variant (⏎ too, until a build is done)' },
  { id: 'build', keys: ['enter'], screens: ['build'], when: (c) => c.build !== 'running' && c.build !== 'done', footer: null, help: 'Build: build the variant (⏎ too, until a build is done)' },
  { id: 'cancel-build', keys: ['char:c'], screens: ['build'], when: (c) => c.build === 'running', footer: 'cancel', help: 'Build: cancel the running build (ctrl-c too)' },
  { id: 'format', keys: ['char:u'], screens: ['build'], when: notRunning, footer: 'cpio/UKI', help: 'Build: switch between a cpio initrd and a UKI' },
  { id: 'reproducible', keys: ['char:r'], screens: ['build'], when: notRunning, footer: 'build twice & compare', help: 'Build: build twice and compare the images' },
  { id: 'apply', keys: ['char:y'], screens: ['review'], when: (c) => c.review !== 'none', hideIn: (c) => c.review === 'empty', footer: 'apply these changes', help: 'Review: apply the changes shown' },
  { id: 'regenerate', keys: ['char:r'], screens: ['install'], when: (c) => c.canRegenerate, footer: 'regenerate the initrd', help: 'Install: regenerate the initrd for the running kernel' },
  {
    id: 'next',
    keys: ['enter', 'right', 'char:l', 'char:n'],
    screens: [...STEPS, 'review'],
    footerKeys: '⏎/→',
    footer: (c) => (c.screen === 'closure' ? 'build' : c.screen === 'build' ? 'review' : 'next'),
    // Unsupported hosts go no further, a build must pass before Review, and Review applies with y: the key answers with why.
    hideIn: (c) => c.unsupported || c.screen === 'review' || (c.screen === 'build' && c.build !== 'done'),
    help: 'next step',
  },
  { id: 'back', keys: ['esc', 'left', 'char:h'], screens: ['variant', 'packages', 'closure', 'build', 'review'], footerKeys: '←/esc', footer: 'back', help: 'back (also closes search, dismisses an error)' },
  { id: 'help', keys: ['char:?'], footer: 'help', quiet: true, help: 'this help' },
  { id: 'quit', keys: ['char:q'], footer: 'quit', quiet: true, help: 'quit (asks first when a build or a reviewed plan is not installed)' },
];

/** ctrl-c is not a binding: it cancels a running build, else quits, whatever the screen or overlay. */
export const CTRL_C_HELP = 'cancel a running build; anywhere else, quit';

type AnyBinding<Id extends string, C> = BindingOf<Id, C> & { screens?: readonly string[] };

const applies = <Id extends string, C>(b: AnyBinding<Id, C>, c: C) => (!b.screens || b.screens.includes((c as { screen?: string }).screen ?? '')) && (b.when?.(c) ?? true);

/** What the key means here and now in a table, or null. */
export function commandIn<Id extends string, C>(table: readonly AnyBinding<Id, C>[], k: KeyName, c: C): Id | null {
  for (const b of table) if (b.keys.includes(k) && applies(b, c)) return b.id;
  return null;
}

/** What the key means here and now in the wizard, or null. */
export function commandFor(k: KeyName, c: KeyContext): CommandId | null {
  return commandIn(BINDINGS, k, c);
}

const KEY_LABEL: Partial<Record<KeyName, string>> = {
  up: '↑', down: '↓', left: '←', right: '→', enter: '⏎', esc: 'esc', space: 'space',
  pageup: 'PgUp', pagedown: 'PgDn', home: 'Home', end: 'End', tab: 'tab', backspace: '⌫',
};

export function keyLabel(k: KeyName): string {
  return KEY_LABEL[k] ?? (k.startsWith('char:') ? k.slice(5) : k);
}

export interface FooterEntry {
  keys: string;
  what: string;
  quiet: boolean;
}

/** A footer: each binding of the table offered now, by its keys, once per command. */
export function footerIn<Id extends string, C>(table: readonly AnyBinding<Id, C>[], c: C): FooterEntry[] {
  const out: FooterEntry[] = [];
  const seen = new Set<Id>();
  for (const b of table) {
    if (b.footer === null || seen.has(b.id) || !applies(b, c) || b.hideIn?.(c)) continue;
    // A key taken by an earlier binding here is not this binding's to show.
    const own = b.keys.filter((k) => commandIn(table, k, c) === b.id);
    if (!own.length) continue;
    seen.add(b.id);
    out.push({ keys: b.footerKeys ?? keyLabel(own[0]!), what: typeof b.footer === 'function' ? b.footer(c) : b.footer, quiet: Boolean(b.quiet) });
  }
  return out;
}

/** The wizard's footer. */
export function footerEntries(c: KeyContext): FooterEntry[] {
  return footerIn(BINDINGS, c);
}

/** A `?` table: one row per help text, with every key that does it. */
export function helpIn<Id extends string, C>(table: readonly AnyBinding<Id, C>[], ctrlC: string): Array<{ keys: string; what: string }> {
  const rows = new Map<string, KeyName[]>();
  for (const b of table) {
    const keys = rows.get(b.help) ?? [];
    for (const k of b.keys) if (!keys.includes(k)) keys.push(k);
    rows.set(b.help, keys);
  }
  const out = [...rows].map(([what, keys]) => ({ keys: keys.map(keyLabel).join(' '), what }));
  out.push({ keys: 'ctrl-c', what: ctrlC });
  return out;
}

/** The wizard's `?` table. */
export function helpRows(): Array<{ keys: string; what: string }> {
  return helpIn(BINDINGS, CTRL_C_HELP);
}

// ─── The fleet table (`initrd-wizard --fleet PATH`) ─────────────────────────

export type FleetCommandId = keyof typeof MOVE_KEYS | 'open' | 'switch' | 'back' | 'help' | 'quit';

export interface FleetKeyContext {
  tab: 'hosts' | 'variants';
  /** The hosts shown are one variant's. */
  filtered: boolean;
  /** The selected host's snapshot can be opened. */
  openable: boolean;
}

export const FLEET_BINDINGS: readonly BindingOf<FleetCommandId, FleetKeyContext>[] = [
  { id: 'up', keys: [...MOVE_KEYS.up], footerKeys: '↑↓', footer: 'move', help: 'move the selection' },
  { id: 'down', keys: [...MOVE_KEYS.down], footer: null, help: 'move the selection' },
  { id: 'pageup', keys: [...MOVE_KEYS.pageup], footer: null, help: 'a page up or down' },
  { id: 'pagedown', keys: [...MOVE_KEYS.pagedown], footer: null, help: 'a page up or down' },
  { id: 'home', keys: [...MOVE_KEYS.home], footer: null, help: 'first / last row' },
  { id: 'end', keys: [...MOVE_KEYS.end], footer: null, help: 'first / last row' },
  { id: 'open', keys: ['enter', 'right', 'char:l'], footerKeys: '⏎', footer: (c) => (c.tab === 'hosts' ? 'open this host' : "this variant's hosts"), hideIn: (c) => c.tab === 'hosts' && !c.openable, help: 'open the host in the wizard (q there comes back here); on Variants, list its hosts' },
  { id: 'switch', keys: ['tab', 'char:v'], footerKeys: 'tab', footer: (c) => (c.tab === 'hosts' ? 'variants' : 'hosts'), help: 'switch between the hosts and the variants' },
  { id: 'back', keys: ['esc', 'left', 'char:h'], when: (c) => c.filtered, footerKeys: 'esc', footer: 'all hosts', help: 'Hosts of one variant: back to all hosts' },
  { id: 'help', keys: ['char:?'], footer: 'help', quiet: true, help: 'this help' },
  { id: 'quit', keys: ['char:q'], footer: 'quit', quiet: true, help: 'quit' },
];

/** Keys of a dialog: the footer while it is open. */
export const DIALOG_FOOTER = {
  help: 'any key closes this help',
  quit: 'y/q quit · n/esc stay',
  discard: 'y discard the saved choices · n/esc keep them',
  search: 'type to search · ↑↓ choose · ⏎ add · esc close search',
} as const;
