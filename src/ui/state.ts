/**
 * The wizard's state and the one reducer that changes it. Everything here is
 * plain data, so key bursts and screen changes are deterministic and the
 * whole flow can be tested without a terminal.
 */
import type { Pool } from '../packages/pool.js';
import { NO_CHOICES, type AppliedInstall, type ImageFormat, type BuildOutcome, type Choices, type HostData, type ReviewPlan, type SavedChoices, type UiError } from './services.js';

export const SCREENS = ['host', 'variant', 'packages', 'closure', 'build', 'review', 'install'] as const;
export type ScreenId = (typeof SCREENS)[number];

export const SCREEN_TITLES: Record<ScreenId, string> = {
  host: 'Host',
  variant: 'Variant',
  packages: 'Packages',
  closure: 'Closure',
  build: 'Build',
  review: 'Review',
  install: 'Install',
};

export type Load<T> = { status: 'idle' } | { status: 'loading' } | { status: 'ready'; value: T } | { status: 'error'; error: UiError };

export interface BuildState {
  status: 'idle' | 'running' | 'done' | 'failed' | 'cancelled';
  stage: string;
  startedAt: number;
  log: string[];
  result: BuildOutcome | null;
  error: UiError | null;
  /** The variant and format the result belongs to: a change of either needs a new build. */
  variantKey: string;
  /** The image format the next build makes (the Build screen toggles it). */
  format: ImageFormat;
  /** The running build is two builds compared. */
  reproducible: boolean;
}

export interface InstallState {
  status: 'idle' | 'applying' | 'done' | 'failed';
  result: AppliedInstall | null;
  error: UiError | null;
  regenerate: 'idle' | 'running' | 'done' | 'failed';
  regenerateLines: string[];
}

export interface WizardState {
  screen: ScreenId;
  host: Load<HostData>;
  pool: Load<Pool>;
  choices: Choices;
  /** Choices found from an earlier run, offered on the Packages screen. */
  restored: SavedChoices | null;
  cursor: Record<ScreenId, number>;
  search: { open: boolean; query: string; cursor: number };
  build: BuildState;
  review: Load<ReviewPlan>;
  install: InstallState;
  overlay: 'none' | 'help' | 'quit' | 'discard';
  notice: string | null;
  error: UiError | null;
  quitting: boolean;
}

export const LOG_LINES = 200;

export function initialState(): WizardState {
  return {
    screen: 'host',
    host: { status: 'loading' },
    pool: { status: 'idle' },
    choices: NO_CHOICES,
    restored: null,
    cursor: { host: 0, variant: 0, packages: 0, closure: 0, build: 0, review: 0, install: 0 },
    search: { open: false, query: '', cursor: 0 },
    build: { status: 'idle', stage: '', startedAt: 0, log: [], result: null, error: null, variantKey: '', format: 'cpio', reproducible: false },
    review: { status: 'idle' },
    install: { status: 'idle', result: null, error: null, regenerate: 'idle', regenerateLines: [] },
    overlay: 'none',
    notice: null,
    error: null,
    quitting: false,
  };
}

export type Action =
  | { type: 'host'; load: Load<HostData>; restored?: SavedChoices | null }
  | { type: 'pool'; load: Load<Pool> }
  | { type: 'go'; screen: ScreenId }
  | { type: 'cursor'; screen: ScreenId; value: number }
  | { type: 'choices'; choices: Choices; notice?: string }
  | { type: 'restore'; accept: boolean }
  | { type: 'search'; open?: boolean; query?: string; cursor?: number }
  | { type: 'build-start'; variantKey: string; at: number; reproducible: boolean }
  | { type: 'format'; format: ImageFormat }
  | { type: 'build-stage'; stage: string }
  | { type: 'build-lines'; lines: string[] }
  | { type: 'build-end'; result?: BuildOutcome; error?: UiError; cancelled?: boolean }
  | { type: 'review'; load: Load<ReviewPlan> }
  | { type: 'install'; status: InstallState['status']; result?: AppliedInstall; error?: UiError }
  | { type: 'regenerate'; status: InstallState['regenerate']; lines?: string[] }
  | { type: 'overlay'; overlay: WizardState['overlay'] }
  | { type: 'notice'; text: string | null }
  | { type: 'error'; error: UiError | null }
  | { type: 'quit' };

export function reducer(s: WizardState, a: Action): WizardState {
  switch (a.type) {
    case 'host':
      return { ...s, host: a.load, restored: a.restored ?? s.restored };
    case 'pool':
      return { ...s, pool: a.load };
    case 'go':
      return { ...s, screen: a.screen, notice: null, search: a.screen === 'packages' ? s.search : { ...s.search, open: false } };
    case 'cursor':
      return s.cursor[a.screen] === a.value ? s : { ...s, cursor: { ...s.cursor, [a.screen]: a.value } };
    case 'choices':
      // A changed variant invalidates a reviewed plan; the build result stays visible but is marked stale by its key.
      return { ...s, choices: a.choices, notice: a.notice ?? null, review: { status: 'idle' } };
    case 'restore':
      return { ...s, choices: a.accept && s.restored ? s.restored.choices : s.choices, restored: null, review: { status: 'idle' } };
    case 'search':
      return { ...s, search: { open: a.open ?? s.search.open, query: a.query ?? s.search.query, cursor: a.cursor ?? (a.query !== undefined ? 0 : s.search.cursor) } };
    case 'build-start':
      return { ...s, build: { ...s.build, status: 'running', stage: 'starting', startedAt: a.at, log: [], result: null, error: null, variantKey: a.variantKey, reproducible: a.reproducible }, review: { status: 'idle' } };
    case 'format':
      // The reviewed plan follows the format (layout=uki or bls): it is planned again.
      return { ...s, build: { ...s.build, format: a.format }, review: { status: 'idle' } };
    case 'build-stage':
      return s.build.status === 'running' ? { ...s, build: { ...s.build, stage: a.stage } } : s;
    case 'build-lines':
      return s.build.status === 'running' ? { ...s, build: { ...s.build, log: [...s.build.log, ...a.lines].slice(-LOG_LINES) } } : s;
    case 'build-end':
      return {
        ...s,
        build: {
          ...s.build,
          status: a.cancelled ? 'cancelled' : a.result ? 'done' : 'failed',
          result: a.result ?? null,
          error: a.error ?? null,
        },
      };
    case 'review':
      return { ...s, review: a.load, cursor: { ...s.cursor, review: 0 } };
    case 'install':
      return { ...s, install: { ...s.install, status: a.status, result: a.result ?? s.install.result, error: a.error ?? null } };
    case 'regenerate':
      return { ...s, install: { ...s.install, regenerate: a.status, regenerateLines: a.lines ?? s.install.regenerateLines } };
    case 'overlay':
      return { ...s, overlay: a.overlay };
    case 'notice':
      return { ...s, notice: a.text };
    case 'error':
      return { ...s, error: a.error };
    case 'quit':
      return { ...s, quitting: true, overlay: 'none' };
  }
}

/** Work that quitting would lose or stop: a running build, a build or reviewed plan not yet installed. */
export function hasUnapplied(s: WizardState): boolean {
  if (s.install.status === 'done') return false;
  return s.build.status === 'running' || s.build.status === 'done' || s.review.status === 'ready' || s.install.status === 'applying';
}
