/**
 * TUI or plain output? Decided once, before anything renders: Ink needs a
 * terminal on both ends, and CI or --json always get plain text.
 */
import { invocation } from '../paths.js';

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

/** What to run instead of the screens, naming this program as the shell can run it. */
export function plainHint(): string {
  const cmd = (name: string) => `${invocation()} ${name}`.padEnd(invocation().length + 11);
  return [
    'Choose a subcommand (the interactive screens run only on a capable terminal, never with TERM=dumb, under CI or with --json):',
    `  ${cmd('detect')}what the initrd must bring up, and anything unsupported`,
    `  ${cmd('suggest')}the profiles and packages for this host`,
    `  ${cmd('closure')}every package the variant pulls in, with sizes and why`,
    `  ${cmd('build')}build and check the image without touching /etc`,
    `  ${cmd('install')}switch kernel-install to mkosi-initrd (revert undoes it)`,
    'Add --json for scripts; --help lists every option.',
  ].join('\n');
}
