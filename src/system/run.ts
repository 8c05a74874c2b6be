/**
 * The one way this program runs external commands: argv arrays only (never a
 * shell string), a timeout on every call, and typed errors that keep the
 * command, exit code and stderr so a user sees what actually failed.
 */
import { WizardError } from '../errors.js';

export interface RunOptions {
  /** Milliseconds before the child is killed. Every call has one. */
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending process.env. */
  extendEnv?: boolean;
  cwd?: string;
  signal?: AbortSignal;
  /** Exit codes that count as success besides 0. */
  okExitCodes?: number[];
  /** Called with each line of stdout and stderr while the command runs. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** An open file descriptor of ours the child gets as its fd 3 (flock(1) locks it for us). */
  passFd?: number;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export class CommandError extends WizardError {
  override readonly name: string = 'CommandError';
  constructor(
    message: string,
    readonly argv: string[],
    readonly exitCode_: number | null,
    readonly stderr: string,
    hint?: string,
  ) {
    super(message, { hint });
  }
}

/** The program is not installed (or not on PATH). */
export class CommandNotFoundError extends CommandError {
  override readonly name = 'CommandNotFoundError';
  constructor(argv: string[]) {
    super(`${argv[0]} is not installed (not found on PATH)`, argv, null, '', `install the package that provides ${argv[0]}`);
  }
}

/** The program ran and failed. */
export class CommandFailedError extends CommandError {
  override readonly name = 'CommandFailedError';
  constructor(argv: string[], exitCode: number, stderr: string, readonly stdout: string) {
    const tail = stderr.trim().split('\n').slice(-3).join('\n');
    super(`${formatArgv(argv)} failed with exit code ${exitCode}${tail ? `: ${tail}` : ''}`, argv, exitCode, stderr);
  }
}

export class CommandTimeoutError extends CommandError {
  override readonly name = 'CommandTimeoutError';
  constructor(argv: string[], timeoutMs: number, stderr: string) {
    super(`${formatArgv(argv)} did not finish within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`} and was stopped`, argv, null, stderr);
  }
}

export class CommandCancelledError extends CommandError {
  override readonly name = 'CommandCancelledError';
  constructor(argv: string[], stderr: string) {
    super(`${formatArgv(argv)} was cancelled`, argv, null, stderr);
  }
}

export interface Runner {
  run(argv: string[], options?: RunOptions): Promise<RunResult>;
}

/**
 * Children run in their own process groups (so a timeout can stop a whole
 * tree), which also means they would outlive us: whatever still runs when
 * this process exits is stopped with it.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number | undefined): () => void {
  if (pid === undefined) return () => undefined;
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const g of liveGroups) {
        try {
          process.kill(-g, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  return () => liveGroups.delete(pid);
}

/** Runs commands for real through execa. Loaded lazily: commands that read a snapshot never pay for it. */
export const systemRunner: Runner = {
  async run(argv, options = {}) {
    if (argv.length === 0 || !argv[0]) throw new WizardError('internal: empty command line');
    const { execa } = await import('execa');
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = performance.now();
    const [file, ...args] = argv as [string, ...string[]];
    const lines = options.onLine;
    // The child leads its own process group so a timeout or cancel can stop
    // everything it started: a grandchild holding the pipes open would
    // otherwise keep us waiting long after the child itself was killed.
    const child = execa(file, args, {
      reject: false,
      detached: true,
      input: options.input,
      env: options.env,
      extendEnv: options.extendEnv ?? true,
      cwd: options.cwd,
      stripFinalNewline: false,
      // Never let a child inherit our terminal: a prompt would hang the call.
      ...(options.passFd !== undefined
        ? { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', options.passFd] }
        : { stdin: options.input === undefined ? 'ignore' : 'pipe' }),
      ...(lines
        ? {
            stdout: [
              function* (line: unknown) {
                lines(String(line), 'stdout');
                yield line;
              },
            ],
            stderr: [
              function* (line: unknown) {
                lines(String(line), 'stderr');
                yield line;
              },
            ],
          }
        : {}),
    } as never) as unknown as Promise<unknown> & { pid?: number };
    let stopped: 'timeout' | 'cancel' | null = null;
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let hardKill: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'cancel') => {
      if (stopped) return;
      stopped = why;
      killGroup('SIGTERM');
      hardKill = setTimeout(() => killGroup('SIGKILL'), 2000);
    };
    const untrack = trackGroup(child.pid);
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('cancel');
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let result: {
      exitCode?: number;
      stdout?: string;
      stderr?: string;
      failed: boolean;
      code?: string;
      cause?: { code?: string };
    };
    try {
      result = (await child) as typeof result;
    } finally {
      untrack();
      clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      options.signal?.removeEventListener('abort', onAbort);
    }
    const stdout = typeof result.stdout === 'string' ? result.stdout : '';
    const stderr = typeof result.stderr === 'string' ? result.stderr : '';
    if (result.code === 'ENOENT' || result.cause?.code === 'ENOENT') throw new CommandNotFoundError(argv);
    if (stopped === 'timeout') throw new CommandTimeoutError(argv, timeoutMs, stderr);
    if (stopped === 'cancel') throw new CommandCancelledError(argv, stderr);
    const exitCode = result.exitCode ?? -1;
    if (exitCode !== 0 && !(options.okExitCodes ?? []).includes(exitCode)) {
      throw new CommandFailedError(argv, exitCode, stderr, stdout);
    }
    return { argv, exitCode, stdout, stderr, durationMs: performance.now() - started };
  },
};
