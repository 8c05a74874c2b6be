/**
 * The Ink face: subscribes to the controller, renders its frame, feeds it keys
 * and the terminal size. Everything else lives in the controller.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { Box, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import type { WizardController } from './controller.js';
import { keyNames } from './keys.js';
import type { Seg, Tone } from './view.js';

const COLORS: Record<Tone, string> = {
  title: 'cyan',
  dim: 'gray',
  bad: 'red',
  good: 'green',
  warn: 'yellow',
  accent: 'magenta',
  key: 'cyan',
};

function Segment({ seg }: { seg: Seg }) {
  return (
    <Text color={seg.tone ? COLORS[seg.tone] : undefined} bold={seg.bold} inverse={seg.inverse}>
      {seg.t}
    </Text>
  );
}

export function App({ controller }: { controller: WizardController }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { isRawModeSupported } = useStdin();
  useSyncExternalStore(controller.subscribe, controller.getVersion);

  useEffect(() => {
    const resize = () => controller.setSize(stdout.columns || 100, stdout.rows || 30);
    resize();
    stdout.on('resize', resize);
    return () => void stdout.off('resize', resize);
  }, [controller, stdout]);

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

  const lines = controller.frame();
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {line.length ? line.map((seg, j) => <Segment key={j} seg={seg} />) : ' '}
        </Text>
      ))}
    </Box>
  );
}
