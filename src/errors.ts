/**
 * Errors a user can act on. Every failure that reaches the CLI is one of these:
 * what failed, why, and the next step. Only cli.ts turns them into exit codes.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  unsupported: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  /** How the process ends: failed (1) unless said otherwise. */
  exit?: ExitCode;
  /** What the user can do next. */
  hint?: string;
}

/** A failure the user can act on: what failed, why, and the next step. */
export class WizardError extends Error {
  override readonly name: string = 'WizardError';
  readonly exitCode: ExitCode;
  readonly hint?: string;
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message);
    this.exitCode = opts.exit ?? ExitCode.failed;
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

/**
 * A broken invariant of initrd-wizard itself, never the user's input or the
 * machine's state: reported as an internal error with "please report".
 */
export class BugError extends Error {
  override readonly name: string = 'BugError';
}

/** Input the user gave us (a flag, a file, a snapshot) is wrong: exit 2. */
export class InputError extends WizardError {
  override readonly name: string = 'InputError';
  constructor(message: string, hint?: string) {
    super(message, { exit: ExitCode.badInput, hint });
  }
}

/** A parser's verdict on one file: typed data or a typed problem, never a throw. */
export type Parsed<T> =
  | { ok: true; value: T; warnings: string[] }
  | { ok: false; error: string };

export function parsed<T>(value: T, warnings: string[] = []): Parsed<T> {
  return { ok: true, value, warnings };
}

export function parseFailure<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

export function describeUnknown(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
