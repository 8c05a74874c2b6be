/**
 * Starts the TUI on the alternate screen and puts the terminal back on every
 * way out: quit, Ctrl-C, SIGTERM/SIGHUP, an exception, or process exit.
 */
import { render } from 'ink';
import { WizardController, type Outcome } from './controller.js';
import { App } from './App.js';
import type { WizardServices } from './services.js';
import { stopBackgroundLoads } from '../packages/background.js';
import type { FleetHost, FleetReport } from '../service/fleet.js';
import { fleetView } from './fleet.js';

/** The alternate screen, entered for a full-screen face and left on every way out. */
export const ENTER_ALT = '\x1b[?1049h\x1b[H';
export const LEAVE_ALT = '\x1b[?25h\x1b[?1049l';

export async function runTui(services: WizardServices): Promise<Outcome> {
  const controller = new WizardController(services);
  const out = process.stdout;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    out.write(LEAVE_ALT);
  };
  out.write(ENTER_ALT);
  process.once('exit', restore);
  const onSignal = (sig: NodeJS.Signals) => controller.terminate(sig === 'SIGHUP' ? 129 : 143);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const ended = new Promise<Outcome>((resolve) => (controller.onExit = resolve));
  const app = render(<App controller={controller} />, { exitOnCtrlC: false, patchConsole: true, maxFps: 60 });
  try {
    const outcome = await Promise.race([ended, app.waitUntilExit().then(() => ended)]);
    // A cancelled build must have killed its processes and removed its files before we leave.
    await Promise.race([controller.buildSettled(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    return outcome;
  } finally {
    app.unmount();
    stopBackgroundLoads();
    await services.dispose?.().catch(() => undefined);
    restore();
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('exit', restore);
  }
}

/**
 * The fleet table, and each host chosen in it opened in the wizard; quitting
 * the host's wizard comes back to the table where it was. Ends when the table
 * is quit (or a host's wizard ends by a signal), with what each host's wizard
 * said on the way out.
 */
export async function runFleetTui(report: FleetReport, source: string, servicesFor: (h: FleetHost) => WizardServices): Promise<Outcome> {
  const { showFleet } = await import('./FleetApp.js');
  let state = fleetView(report, source);
  const said: string[] = [];
  for (;;) {
    const a = await showFleet(state);
    state = a.state;
    if (!a.open) return { code: 0, summary: said.join('\n\n') };
    const outcome = await runTui(servicesFor(a.open));
    if (outcome.summary) said.push(`${a.open.name}:\n${outcome.summary}`);
    // A signal ends everything, as it would the wizard on its own.
    if (outcome.code >= 128) return { code: outcome.code, summary: said.join('\n\n') };
    state = { ...state, notice: `back from ${a.open.name}` };
  }
}
