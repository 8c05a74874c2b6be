/**
 * The fleet table on screen: draws fleetFrame, feeds it keys and the
 * terminal size, and ends with the table's answer (a host to open, or quit).
 */
import { useEffect, useRef, useState } from 'react';
import { Box, Text, render, useApp, useInput, useStdin, useStdout } from 'ink';
import { paint } from './App.js';
import { fleetFrame, fleetKey, type FleetAnswer, type FleetViewState } from './fleet.js';
import { keyNames } from './keys.js';
import { ENTER_ALT, LEAVE_ALT } from './run.js';

function FleetTable({ initial, done }: { initial: FleetViewState; done: (a: FleetAnswer) => void }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { isRawModeSupported } = useStdin();
  const [state, setState] = useState(initial);
  // Keys arrive faster than React renders: each one starts from the state the one before it left, not from the last render.
  const current = useRef(initial);
  const update = (s: FleetViewState) => {
    current.current = s;
    setState(s);
  };

  useEffect(() => {
    const resize = () => update({ ...current.current, width: stdout.columns || 100, height: stdout.rows || 30 });
    resize();
    stdout.on('resize', resize);
    return () => void stdout.off('resize', resize);
  }, [stdout]);

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

  const colour = !process.env.NO_COLOR;
  return (
    <Box flexDirection="column">
      {fleetFrame(state).map((line, i) => (
        <Text key={i} wrap="truncate">
          {line.length ? paint(line, colour) : ' '}
        </Text>
      ))}
    </Box>
  );
}

/** Shows the table until a host is chosen or the user quits; the terminal is back as it was either way. */
export async function showFleet(state: FleetViewState): Promise<FleetAnswer> {
  const out = process.stdout;
  out.write(ENTER_ALT);
  const restore = () => out.write(LEAVE_ALT);
  process.once('exit', restore);
  let answer: FleetAnswer = { state, quit: true };
  const sized = { ...state, width: out.columns || state.width, height: out.rows || state.height };
  const app = render(<FleetTable initial={sized} done={(a) => (answer = a)} />, { exitOnCtrlC: false, patchConsole: true });
  try {
    await app.waitUntilExit();
    return answer;
  } finally {
    app.unmount();
    restore();
    process.off('exit', restore);
  }
}
