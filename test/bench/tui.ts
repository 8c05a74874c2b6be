/**
 * TUI latency: process start to first frame (the built binary on a pseudo
 * terminal from `script`), and keystroke to frame for fuzzy search over the
 * demo repository's 63,666 names and for moving through the closure list
 * (ink-testing-library, in process: input, handler, search or re-layout, and
 * Ink's render of the new frame).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { createElement } from 'react';
import { render } from 'ink';
import { App } from '../../src/ui/App.js';
import { WizardController } from '../../src/ui/controller.js';
import { demoServices } from '../../src/ui/demo-services.js';
import { memoryPrefs } from '../../src/ui/prefs.js';
import { CLI } from '../helpers.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const f1 = (x: number) => x.toFixed(1);

/** A terminal as Ink sees it: a size, and writes we can time. */
class FakeTty extends EventEmitter {
  columns = 120;
  rows = 40;
  isTTY = true;
  onWrite: (() => void) | null = null;
  write(_s: string) {
    this.onWrite?.();
    return true;
  }
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  type(s: string) {
    this.data = s;
    this.emit('readable');
  }
  read() {
    const d = this.data;
    this.data = null;
    return d;
  }
  setRawMode() {}
  setEncoding() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

/** ms from spawn until the pty shows the text (after the alternate screen was entered). */
function timeToScreen(text: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // script(1) gives the program a real terminal; the size comes from stty inside it.
    const child = spawn('script', ['-qfec', `stty rows 40 cols 120; exec ${process.execPath} ${CLI} --demo`, '/dev/null'], { env: { ...env, TERM: 'xterm-256color' }, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    let out = '';
    const timer = setTimeout(() => finish(new Error(`no "${text}" within 20 s: ${out.slice(-400)}`)), 20_000);
    function finish(err: Error | null, ms?: number) {
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      if (err) reject(err);
      else resolve(ms!);
    }
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      if (out.includes(text)) finish(null, performance.now() - t0);
    });
  });
}


export async function tuiBench(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'iw-bench-tui-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '', INITRD_WIZARD_CONFIG_DIR: path.join(work, 'config'), XDG_CACHE_HOME: path.join(work, 'xdg') };
  delete env.CI;
  try {
    console.log('\n## TUI: process start to first frame, demo mode (target <= 400 ms; median of 7 after 1 warm-up)');
    const first: number[] = [];
    const host: number[] = [];
    for (let i = 0; i < 8; i++) {
      const a = await timeToScreen('initrd-wizard', env);
      const b = await timeToScreen('Storage the initrd must bring up', env);
      if (i) {
        first.push(a);
        host.push(b);
      }
    }
    const med = (xs: number[]) => pct(xs, 50);
    console.log(`first frame: median ${f1(med(first))} ms, max ${f1(Math.max(...first))} ms (${med(first) <= 400 ? 'within' : 'OVER'} target)`);
    console.log(`first frame with the host's storage tree: median ${f1(med(host))} ms, max ${f1(Math.max(...host))} ms`);

    const services = await demoServices({ workDir: path.join(work, 'demo'), cacheDir: path.join(work, 'cache'), prefs: memoryPrefs(), replaySpeed: 1000 });
    const c = new WizardController(services);
    const out = new FakeTty();
    const inp = new FakeStdin();
    const app = render(createElement(App, { controller: c }), { stdout: out as never, stdin: inp as never, exitOnCtrlC: false, patchConsole: false, maxFps: 60 });
    // Keystroke to frame: from the bytes arriving on stdin to Ink writing the new frame.
    const key = (k: string) =>
      new Promise<number>((resolve) => {
        const t = performance.now();
        // A key that changes nothing writes no frame: give up after a second rather than hang.
        const timer = setTimeout(() => {
          out.onWrite = null;
          resolve(Number.NaN);
        }, 1000);
        out.onWrite = () => {
          clearTimeout(timer);
          out.onWrite = null;
          resolve(performance.now() - t);
        };
        inp.type(k);
      });
    const pause = () => new Promise((r) => setTimeout(r, 20));
    while (c.state.pool.status !== 'ready') await new Promise((r) => setTimeout(r, 50));
    for (const k of ['\r', '\r', '/']) {
      await key(k);
      await pause();
    }
    const names = c.searcher()!.names.length;
    // Warm-up: the first use in a session JIT-compiles the search loop.
    for (const ch of 'xyz\x7f\x7f\x7f') {
      await key(ch);
      await pause();
    }
    const search: number[] = [];
    for (const q of ['cryptsetup', 'plymuth', 'libtss2', 'lvm2', 'systemd-boot', 'nfs-common', 'zstd', 'btrfs', 'mdadm', 'kmod']) {
      for (const ch of q) {
        search.push(await key(ch));
        await pause();
      }
      for (let i = 0; i < q.length; i++) {
        await key('\x7f');
        await pause();
      }
    }
    console.log(`\n## TUI: keystroke to frame at ${out.columns}x${out.rows}, fuzzy search over ${names} package names (target p95 <= 50 ms)`);
    console.log(`${search.length} keystrokes: median ${f1(pct(search, 50))} ms, p95 ${f1(pct(search, 95))} ms, max ${f1(Math.max(...search))} ms (${pct(search, 95) <= 50 ? 'within' : 'OVER'} target)`);

    for (const k of ['\x1b', '\r']) {
      await key(k);
      await new Promise((r) => setTimeout(r, 100));
    }
    const view = c.closure();
    for (const [cols, rows] of [[120, 40], [80, 24]] as const) {
      out.columns = cols;
      out.rows = rows;
      out.emit('resize');
      await new Promise((r) => setTimeout(r, 100));
      const moves: number[] = [];
      for (let i = 0; i < 200; i++) {
        moves.push(await key(i % 20 < 10 ? '\x1b[B' : '\x1b[A'));
        await pause();
      }
      console.log(`\n## TUI: keystroke to frame at ${cols}x${rows}, moving through the closure list (${view?.ok ? view.rows.length : '?'} packages; target p95 <= 16 ms)`);
      console.log(`${moves.length} moves: median ${f1(pct(moves, 50))} ms, p95 ${f1(pct(moves, 95))} ms, max ${f1(Math.max(...moves))} ms (${pct(moves, 95) <= 16 ? 'within' : 'OVER'} target)`);
    }
    app.unmount();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

