/**
 * The fleet table on screen: draws fleetFrame, feeds it keys and the
 * terminal size, and ends with the table's answer (a host to open, or quit).
 */
import { useRef, useState } from 'react';
import { render, useApp, useInput, useStdin } from 'ink';
import { Frame, useTerminalSize } from './App.js';
import { fleetFrame, fleetKey, type FleetAnswer, type FleetViewState } from './fleet.js';
import { keyNames } from './keys.js';
import { altScreen } from './run.js';

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
