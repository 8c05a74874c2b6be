/**
 * Starts the TUI on the alternate screen and puts the terminal back on every
 * way out: quit, Ctrl-C, SIGTERM/SIGHUP, an exception, or process exit.
 */
import { render } from 'ink';
import { WizardController, type Outcome } from './controller.js';
import { App } from './App.js';
import type { WizardServices } from './services.js';
import { stopBackgroundLoads } from '../packages/background.js';

const ENTER_ALT = '\x1b[?1049h\x1b[H';
const LEAVE_ALT = '\x1b[?25h\x1b[?1049l';

/**
 * Enters the alternate screen for a full-screen face and returns how to
 * leave it (once, however the face ends; process exit leaves it too).
 * SIGTERM and SIGHUP do not end the process outright while it is shown: they
 * call onSignal with the exit status they mean (143, 129), and the face ends
 * itself, so the screen is always left.
 */
export function altScreen(onSignal: (code: number) => void): () => void {
  const out = process.stdout;
  let left = false;
  const signal = (sig: NodeJS.Signals) => onSignal(sig === 'SIGHUP' ? 129 : 143);
  const leave = () => {
    if (left) return;
    left = true;
    out.write(LEAVE_ALT);
    process.off('SIGTERM', signal);
    process.off('SIGHUP', signal);
    process.off('exit', leave);
  };
  out.write(ENTER_ALT);
  process.once('exit', leave);
  process.on('SIGTERM', signal);
  process.on('SIGHUP', signal);
  return leave;
}

export async function runTui(services: WizardServices): Promise<Outcome> {
  const controller = new WizardController(services);
  const leave = altScreen((code) => controller.terminate(code));
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
    leave();
  }
}
