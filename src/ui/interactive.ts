/**
 * TUI or plain output? Decided once, before anything renders: Ink needs a
 * terminal on both ends, and CI or --json always get plain text.
 */
export interface TerminalFacts {
  stdinTTY: boolean;
  stdoutTTY: boolean;
  env: Record<string, string | undefined>;
  json: boolean;
}

export function wantsTui(t: TerminalFacts): boolean {
  if (t.json || !t.stdinTTY || !t.stdoutTTY) return false;
  // A dumb terminal has no cursor movement and no colour: the screens would be garbage.
  if (t.env.TERM === 'dumb') return false;
  const ci = t.env.CI;
  return !(ci && ci !== '0' && ci.toLowerCase() !== 'false');
}

export const PLAIN_HINT = [
  'Choose a subcommand (the interactive screens run only on a capable terminal, never with TERM=dumb, under CI or with --json):',
  '  initrd-wizard detect      what the initrd must bring up, and anything unsupported',
  '  initrd-wizard suggest     the profiles and packages for this host',
  '  initrd-wizard closure     every package the variant pulls in, with sizes and why',
  '  initrd-wizard build       build and check the image without touching /etc',
  '  initrd-wizard install     switch kernel-install to mkosi-initrd (revert undoes it)',
  'Add --json for scripts; --help lists every option.',
].join('\n');
