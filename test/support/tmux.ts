/**
 * A small driver for the real `tmux` binary: runs a program in a detached pane
 * of its own size, types into it, reads its screen, and reads its exit status.
 *
 * Each session has a private server (`tmux -L <unique socket> -f /dev/null`,
 * so neither another server nor a user config gets in), with the status line
 * off, so the pane is the whole COLS x ROWS.
 *
 * The program is started as an argv vector, never through a shell's parsing:
 * `env [-u NAME...] TERM=xterm-256color [NAME=VALUE...] /bin/sh -c WRAPPER sh TMUX ARGV...`.
 * The fixed WRAPPER script runs "$@", then records the exit status in a pane
 * option (@iw_exit) and keeps the pty open. That works around two races of
 * tmux 3.3's own remain-on-exit seen here: a pane that died quickly sometimes
 * never gets #{pane_dead_status}/#{pane_dead_signal}, and the last output of a
 * program that exits at once can be lost when tmux closes the pty. So the
 * program's final screen stays as it left it, and its status is always known.
 * The program does not see TMUX/TMUX_PANE (as in a plain terminal).
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, rmSync } from 'node:fs';
import path from 'node:path';

export interface StartOptions {
  /** The program and its arguments, executed directly (no shell parses them). */
  argv: string[];
  /** Pane width; 120 unless given. */
  cols?: number;
  /** Pane height; 40 unless given. */
  rows?: number;
  /**
   * Environment for the program, on top of this process's own (TERM is
   * xterm-256color unless given here); `undefined` removes a variable, e.g.
   * `{ CI: undefined }` so that CI's CI=true does not reach the program.
   */
  env?: Record<string, string | undefined>;
  /** Working directory of the program; this process's own unless given. */
  cwd?: string;
}

export interface CaptureOptions {
  /**
   * Keep colours and attributes as SGR escape sequences (`capture-pane -e`),
   * and the trailing blanks of each row too (`-N`): a reverse-video or
   * coloured bar can end in blanks. (SGR state runs on across rows, as tmux
   * writes only changes: read the capture as one stream.)
   */
  ansi?: boolean;
}

export interface WaitOptions extends CaptureOptions {
  /** 5000 unless given. */
  timeoutMs?: number;
  /** How often the screen is read; 50 unless given. */
  intervalMs?: number;
}

export interface TmuxSession {
  /** The private server's socket name, for looking by hand while debugging: `tmux -L <socket> attach`. */
  readonly socket: string;
  /** Named keys as tmux spells them: 'Enter', 'Escape', 'Tab', 'BTab', 'BSpace', 'Up', 'Down', 'Left', 'Right', 'Space', 'PageDown', 'C-c', 'M-x', 'F1', ... */
  keys(...keys: string[]): Promise<void>;
  /** Same as keys(). */
  sendKeys(...keys: string[]): Promise<void>;
  /** Literal text (`send-keys -l`): no key name, format or ';' in it is interpreted. */
  type(text: string): Promise<void>;
  /** The visible pane: one line per row, each ending in '\n' (without `ansi`, tmux trims the trailing blanks of a row). */
  capture(opts?: CaptureOptions): Promise<string>;
  /**
   * Polls the screen until it contains `pattern` (a substring, or a RegExp
   * tested against the whole screen) and returns that screen. Throws, with the
   * last screen in the message, on timeout or when the program exits without
   * showing it.
   */
  waitFor(pattern: string | RegExp, opts?: WaitOptions): Promise<string>;
  /** The program's exit status (128 + N when signal N ended it, as a shell reports it), or null while it runs. */
  exitStatus(): Promise<number | null>;
  /** Waits for the program to exit and returns its exit status; throws with the screen on timeout (5000 ms unless given). */
  waitForExit(timeoutMs?: number): Promise<number>;
  /** Resizes the window and so the pane; the program gets SIGWINCH. */
  resize(cols: number, rows: number): Promise<void>;
  /** Ends the private server and with it the program. Idempotent, never throws: safe in `finally`. */
  kill(): Promise<void>;
}

/**
 * $1 is tmux's path, the rest the program. Ctrl-C and Ctrl-\ reach the
 * program; the wrapper only waits through them (a trap, not an ignore, so the
 * program gets the default handlers). The pause before recording the status
 * gives tmux time to read the program's last output from the pty; echo off,
 * keys sent after the exit do not show on the final screen. Hang-ups
 * (kill-server) end the wrapper and its final sleep.
 */
const WRAPPER = [
  't=$1; shift',
  'p=$TMUX_PANE; s=$TMUX; unset TMUX TMUX_PANE',
  'trap : INT QUIT',
  '"$@"',
  'r=$?',
  'trap - INT QUIT',
  'stty -echo 2>/dev/null',
  'sleep 0.1',
  'TMUX=$s "$t" set-option -p -t "$p" @iw_exit "$r"',
  'exec sleep 2147483647 </dev/null',
].join('\n');

const SESSION = 'drv';
const TARGET = `${SESSION}:`;
let counter = 0;

/** Servers not killed yet (socket name -> socket file), ended on process exit so a failed test leaves no tmux server behind. */
const live = new Map<string, string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [socket, socketFile] of live) {
      spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore', env: tmuxEnv() });
      rmSync(socketFile, { force: true });
    }
    live.clear();
  });
}

/** This process's environment without the variables that would tie tmux, or the program, to the caller's tmux or test runner. */
function tmuxEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TMUX;
  delete env.TMUX_PANE;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function findTmux(): string {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.join(dir || '.', 'tmux');
    try {
      accessSync(candidate, constants.X_OK);
      return path.resolve(candidate);
    } catch {
      // next
    }
  }
  throw new Error('tmux is not installed (Debian package: tmux)');
}

/**
 * tmux reads a word that ends in ';' as the end of a command (and drops the
 * ';'), even inside argv, unless a backslash stands before that ';'. So every
 * such word gets one: 'a;' -> 'a\;' (read back as 'a;'), 'a\;' -> 'a\\;'.
 */
function word(w: string): string {
  return w.endsWith(';') ? `${w.slice(0, -1)}\\;` : w;
}

/** Runs tmux commands, in order, in one client call to the private server. */
function tmux(socket: string, ...commands: string[][]): Promise<string> {
  const args = commands.flatMap((c, i) => [...(i ? [';'] : []), ...c.map(word)]);
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env: tmuxEnv(), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('tmux is not installed (Debian package: tmux)'));
      reject(new Error(`tmux ${commands.map((c) => c.join(' ')).join(' ; ')}: ${String(stderr).trim() || err.message}`));
    });
  });
}

/** How long a matching screen must stay unchanged to count as a whole frame. */
const SETTLE_MS = 40;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function matches(screen: string, pattern: string | RegExp): boolean {
  if (typeof pattern === 'string') return screen.includes(pattern);
  pattern.lastIndex = 0;
  return pattern.test(screen);
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** A screen for an error message, each row behind a '|' so blank rows and trailing text show. */
function framed(screen: string): string {
  return screen.replace(/\n$/, '').split('\n').map((l) => `  |${l}`).join('\n');
}

export async function startSession(opts: StartOptions): Promise<TmuxSession> {
  const cols = positiveInt('cols', opts.cols ?? 120);
  const rows = positiveInt('rows', opts.rows ?? 40);
  if (opts.argv.length === 0) throw new Error('startSession: argv is empty');
  const unset: string[] = [];
  const assignments: string[] = [];
  for (const [k, v] of Object.entries({ TERM: 'xterm-256color', ...opts.env })) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`startSession: bad environment variable name ${JSON.stringify(k)}`);
    if (v === undefined) unset.push('-u', k);
    else assignments.push(`${k}=${v}`);
  }
  const tmuxPath = findTmux();
  const socket = `iw-${process.pid}-${++counter}-${randomBytes(4).toString('hex')}`;
  // Where tmux puts a -L socket; tmux 3.3 leaves the file behind after kill-server.
  const socketFile = path.join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket);
  installExitHook();
  live.set(socket, socketFile);
  try {
    // Options first and global, so they hold for the pane from its first instant.
    // remain-on-exit only matters if the wrapper itself is killed: the screen stays.
    await tmux(
      socket,
      ['start-server'],
      ['set-option', '-g', 'status', 'off'],
      ['set-option', '-g', 'remain-on-exit', 'on'],
      ['set-option', '-g', 'remain-on-exit-format', ''],
      ['set-option', '-g', 'history-limit', '0'],
      ['new-session', '-d', '-s', SESSION, '-x', String(cols), '-y', String(rows), '-c', opts.cwd ?? process.cwd(), '--', 'env', ...unset, ...assignments, '/bin/sh', '-c', WRAPPER, 'sh', tmuxPath, ...opts.argv],
    );
  } catch (e) {
    await tmux(socket, ['kill-server']).catch(() => {});
    rmSync(socketFile, { force: true });
    live.delete(socket);
    throw e;
  }

  let killed = false;
  const alive = () => {
    if (killed) throw new Error(`tmux session ${socket} was already killed`);
  };

  const session: TmuxSession = {
    socket,
    async keys(...keys) {
      alive();
      if (keys.length) await tmux(socket, ['send-keys', '-t', TARGET, ...keys]);
    },
    sendKeys(...keys) {
      return session.keys(...keys);
    },
    async type(text) {
      alive();
      if (text) await tmux(socket, ['send-keys', '-t', TARGET, '-l', '--', text]);
    },
    async capture(o = {}) {
      alive();
      return tmux(socket, ['capture-pane', '-p', ...(o.ansi ? ['-e', '-N'] : []), '-t', TARGET]);
    },
    async waitFor(pattern, o = {}) {
      const timeoutMs = o.timeoutMs ?? 5000;
      const intervalMs = o.intervalMs ?? 50;
      const deadline = Date.now() + timeoutMs;
      let screen = '';
      for (;;) {
        // The exit state before the screen: a screen read after the exit was
        // recorded is the final one, so "exited without showing it" is sure.
        const status = await session.exitStatus();
        screen = await session.capture(o);
        if (matches(screen, pattern)) {
          // A frame reaches tmux in pieces: a capture can hold the top of a new
          // frame over the bottom of the old one. Only a screen that reads the
          // same a moment later is a whole frame, for the assertions after this.
          await sleep(SETTLE_MS);
          const again = await session.capture(o);
          if (again === screen) return screen;
          screen = again;
          if (Date.now() < deadline) continue;
          if (matches(screen, pattern)) return screen;
          break;
        }
        if (status !== null) throw new Error(`waitFor(${String(pattern)}): the program exited (status ${status}) without showing it; its last screen:\n${framed(screen)}`);
        if (Date.now() >= deadline) break;
        await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
      }
      throw new Error(`waitFor(${String(pattern)}) timed out after ${timeoutMs} ms; the last screen:\n${framed(screen)}`);
    },
    async exitStatus() {
      alive();
      const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : null);
      // The wrapper's record first; tmux's own only if the wrapper was killed
      // too, and then it may take a moment to appear (or never: see above).
      for (let attempt = 0; ; attempt++) {
        const out = await tmux(socket, ['display-message', '-p', '-t', TARGET, '#{@iw_exit}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_dead_signal}']);
        const [recorded, dead, status, signal] = out.replace(/\n$/, '').split('\t');
        const r = num(recorded);
        if (r !== null) return r;
        if (dead !== '1') return null;
        const sig = num(signal);
        if (sig !== null) return 128 + sig;
        const st = num(status);
        if (st !== null) return st;
        if (attempt >= 20) throw new Error(`tmux session ${socket}: the pane died but tmux reports no exit status`);
        await sleep(25);
      }
    },
    async waitForExit(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = await session.exitStatus();
        if (status !== null) return status;
        if (Date.now() >= deadline) break;
        await sleep(50);
      }
      const screen = await session.capture().catch(() => '');
      throw new Error(`waitForExit: the program still runs after ${timeoutMs} ms; its screen:\n${framed(screen)}`);
    },
    async resize(c, r) {
      alive();
      await tmux(socket, ['resize-window', '-t', TARGET, '-x', String(positiveInt('cols', c)), '-y', String(positiveInt('rows', r))]);
    },
    async kill() {
      if (killed) return;
      killed = true;
      await tmux(socket, ['kill-server']).catch(() => {});
      try {
        rmSync(socketFile, { force: true });
      } catch {
        // kill() never throws
      }
      // Only now: should this process exit while the above runs, the exit hook still does it.
      live.delete(socket);
    },
  };
  return session;
}
