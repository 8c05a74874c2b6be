/** Mounts the wizard in ink-testing-library with React's act(): every key lands, every promise settles, no sleeps. */
import { act, createElement } from 'react';
import { render } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import { WizardController } from '../../src/ui/controller.js';
import type { WizardServices } from '../../src/ui/services.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export const KEY = {
  enter: '\r',
  esc: '\u001B',
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  space: ' ',
  ctrlC: '\u0003',
  ctrlD: '\u0004',
  backspace: '\u007F',
};

const strip = (s: string) => s.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '');

export interface Mounted {
  controller: WizardController;
  frame(): string;
  press(...keys: string[]): Promise<void>;
  /** Sends a key without waiting for what it starts (a build) to finish. */
  send(key: string): Promise<void>;
  settle(): Promise<void>;
  /** Waits (letting timers and worker threads run) until the frame shows the text; returns the frame. */
  until(text: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Lets time pass (timers, worker threads) without waiting for running work to finish. */
  wait(ms: number): Promise<void>;
  resize(cols: number, rows: number): Promise<void>;
  unmount(): void;
}

export async function mountWizard(services: WizardServices): Promise<Mounted> {
  const controller = new WizardController(services);
  let r!: ReturnType<typeof render>;
  await act(async () => {
    r = render(createElement(App, { controller }));
  });
  const settle = async () => {
    await act(async () => {
      await controller.settled();
    });
  };
  await settle();
  return {
    controller,
    frame: () => strip(r.lastFrame() ?? ''),
    async press(...keys) {
      for (const k of keys) {
        await act(async () => {
          r.stdin.write(k);
          // Ink delivers a lone Esc after a short wait for a following sequence.
          if (k === KEY.esc) await new Promise((res) => setTimeout(res, 30));
        });
        await settle();
      }
    },
    async send(k) {
      await act(async () => {
        r.stdin.write(k);
      });
    },
    settle,
    async wait(ms) {
      await act(async () => {
        await new Promise((res) => setTimeout(res, ms));
      });
    },
    async until(text, timeoutMs = 60_000) {
      const t = Date.now();
      for (;;) {
        const f = strip(r.lastFrame() ?? '');
        if (typeof text === 'string' ? f.includes(text) : text.test(f)) return f;
        if (Date.now() - t > timeoutMs) throw new Error(`timed out waiting for ${String(text)}; screen:\n${f}`);
        await act(async () => {
          await new Promise((res) => setTimeout(res, 20));
        });
      }
    },
    async resize(cols, rows) {
      await act(async () => {
        Object.defineProperty(r.stdout, 'columns', { value: cols, configurable: true });
        Object.defineProperty(r.stdout, 'rows', { value: rows, configurable: true });
        r.stdout.emit('resize');
      });
    },
    unmount: () => r.unmount(),
  };
}

/** Host → Variant → Packages → Closure → Build, resolved and ready for b (the demo's host is supported). */
export async function toBuildScreen(m: Mounted): Promise<void> {
  await m.until('Supported');
  await m.press(KEY.enter, KEY.enter, KEY.enter);
  await m.until(/Closure: \d+/);
  await m.press(KEY.enter);
}

/** Host → … → Build, started and finished (the demo replays the recorded build). */
export async function toBuilt(m: Mounted): Promise<string> {
  await toBuildScreen(m);
  await m.press('b');
  return m.until('Built and verified');
}
