/**
 * The fleet table on screen: draws fleetFrame, feeds it keys and the
 * terminal size, and ends with the table's answer (a host to open, or quit);
 * runFleetTui opens each chosen host in the wizard and comes back.
 */
import { useRef, useState } from 'react';
import { render, useApp, useInput, useStdin } from 'ink';
import { Frame, useTerminalSize } from './App.js';
import { fleetFrame, fleetKey, fleetView, type FleetAnswer, type FleetViewState } from './fleet.js';
import { keyNames } from './keys.js';
import { altScreen, runTui } from './run.js';
import type { Outcome } from './controller.js';
import type { WizardServices } from './services.js';
import type { FleetHost, FleetReport } from '../service/fleet.js';

function FleetTable({ initial, done }: { initial: FleetViewState; done: (a: FleetAnswer) => void }) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const [state, setState] = useState(initial);
  // Keys arrive faster than React renders: each one starts from the state the one before it left, not from the last render.
  const current = useRef(initial);
  const update = (s: FleetViewState) => {
    current.current = s;
    setState(s);
  };

  useTerminalSize((width, height) => update({ ...current.current, width, height }));

  useInput(
    (input, key) => {
      let s = current.current;
      for (const k of keyNames(input, key)) {
        const a = fleetKey(s, k);
        s = a.state;
        if (a.open || a.quit) {
          done(a);
          exit();
          return;
        }
      }
      update(s);
    },
    { isActive: Boolean(isRawModeSupported) },
  );

  return <Frame lines={fleetFrame(state)} />;
}

/** Shows the table until a host is chosen, the user quits or a signal ends it (its exit status in `code`); the terminal is back as it was either way. */
export async function showFleet(state: FleetViewState): Promise<FleetAnswer & { code?: number }> {
  const out = process.stdout;
  let answer: FleetAnswer & { code?: number } = { state, quit: true };
  let app: ReturnType<typeof render> | null = null;
  const leave = altScreen((code) => {
    answer = { state, quit: true, code };
    app?.unmount();
  });
  const sized = { ...state, width: out.columns || state.width, height: out.rows || state.height };
  app = render(<FleetTable initial={sized} done={(a) => (answer = a)} />, { exitOnCtrlC: false, patchConsole: true });
  try {
    await app.waitUntilExit();
    return answer;
  } finally {
    app.unmount();
    leave();
  }
}

/**
 * The fleet table, and each host chosen in it opened in the wizard; quitting
 * the host's wizard comes back to the table where it was. Ends when the table
 * is quit (or a host's wizard ends by a signal), with what each host's wizard
 * said on the way out.
 */
export async function runFleetTui(report: FleetReport, source: string, servicesFor: (h: FleetHost) => WizardServices): Promise<Outcome> {
  let state = fleetView(report, source);
  const said: string[] = [];
  for (;;) {
    const a = await showFleet(state);
    state = a.state;
    if (!a.open) return { code: a.code ?? 0, summary: said.join('\n\n') };
    const outcome = await runTui(servicesFor(a.open));
    if (outcome.summary) said.push(`${a.open.name}:\n${outcome.summary}`);
    // A signal ends everything, as it would the wizard on its own.
    if (outcome.code >= 128) return { code: outcome.code, summary: said.join('\n\n') };
    state = { ...state, notice: `back from ${a.open.name}` };
  }
}
