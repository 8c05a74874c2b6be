/**
 * The demo without a terminal (a pipe, CI): detection and suggestion on the
 * real captured snapshot that ships with the package, as text. On a terminal
 * `--demo` opens the interactive wizard instead.
 */
import { DEMO_SNAPSHOT, fixtureSnapshot } from '../paths.js';
import { detectCommand } from './detect.js';
import { suggestCommand } from './suggest.js';
import type { CommandResult } from './result.js';

export async function demoCommand(): Promise<CommandResult> {
  const snapshot = fixtureSnapshot(DEMO_SNAPSHOT);
  const detect = await detectCommand({ snapshot });
  const variant = await suggestCommand({ snapshot });
  const rule = '─'.repeat(72);
  return {
    json: { snapshot, report: detect.json, variant: variant.json },
    text: [
      `Demo: the bundled snapshot ${DEMO_SNAPSHOT} (captured in a QEMU guest), analysed without touching this machine.`,
      rule,
      detect.text,
      rule,
      variant.text,
      rule,
      'On your own machine: `sudo initrd-wizard detect` and `sudo initrd-wizard suggest`.',
    ].join('\n'),
    exitCode: 0,
  };
}
