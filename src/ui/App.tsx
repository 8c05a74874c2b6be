/**
 * The Ink face: subscribes to the controller, renders its frame, feeds it keys
 * and the terminal size. Everything else lives in the controller.
 */
import { Component, useEffect, useRef, useSyncExternalStore, type ReactNode } from 'react';
import { Box, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import type { WizardController } from './controller.js';
import { keyNames } from './keys.js';
import type { Seg, Tone } from './view.js';

// One <Text> per line with the colours inlined: a frame is ~30 layout nodes
// instead of ~150, which keeps a keystroke well inside one display frame.
const SGR: Record<Tone, string> = {
  title: '36',
  dim: '90',
  bad: '31',
  good: '32',
  warn: '33',
  accent: '35',
  key: '36',
};

export function paint(line: Seg[], colour: boolean): string {
  if (!colour) return line.map((s) => s.t).join('');
  let out = '';
  let open = '';
  for (const s of line) {
    const codes = [s.tone ? SGR[s.tone] : '', s.bold ? '1' : '', s.inverse ? '7' : ''].filter(Boolean).join(';');
    // Neighbours with the same style share one escape sequence.
    if (codes !== open) {
      if (open) out += '\x1b[0m';
      if (codes) out += `\x1b[${codes}m`;
      open = codes;
    }
    out += s.t;
  }
  return open ? out + '\x1b[0m' : out;
}

/** A render bug ends the wizard with a one-line message (printed after the terminal is restored), not Ink's stack trace. */
class Guard extends Component<{ controller: WizardController; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  override componentDidCatch(err: unknown) {
    this.props.controller.crash(err);
  }
  override render() {
    return this.state.failed ? null : this.props.children;
  }
}

export function App({ controller }: { controller: WizardController }) {
  return (
    <Guard controller={controller}>
      <Wizard controller={controller} />
    </Guard>
  );
}

function Wizard({ controller }: { controller: WizardController }) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  useSyncExternalStore(controller.subscribe, controller.getVersion);

  useTerminalSize((columns, rows) => controller.setSize(columns, rows));

  useEffect(() => {
    controller.start();
  }, [controller]);

  useEffect(() => {
    if (controller.state.quitting) exit();
  });

  useInput(
    (input, key) => {
      for (const k of keyNames(input, key)) controller.key(k);
    },
    { isActive: Boolean(isRawModeSupported) },
  );

  return <Frame lines={controller.frame()} />;
}

/** A frame of lines, each one <Text> with its colours inlined (see SGR). */
export function Frame({ lines }: { lines: Seg[][] }) {
  const colour = !process.env.NO_COLOR;
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {line.length ? paint(line, colour) : ' '}
        </Text>
      ))}
    </Box>
  );
}

/** Calls onSize with the terminal's columns and rows now and at every resize. */
export function useTerminalSize(onSize: (columns: number, rows: number) => void): void {
  const { stdout } = useStdout();
  // The latest callback, without re-subscribing at every render.
  const latest = useRef(onSize);
  latest.current = onSize;
  useEffect(() => {
    const resize = () => latest.current(stdout.columns || 100, stdout.rows || 30);
    resize();
    stdout.on('resize', resize);
    return () => void stdout.off('resize', resize);
  }, [stdout]);
}
