/**
 * What the screens may ask of the world. The TUI never touches the system
 * itself: the host services wrap the same pipeline functions the subcommands
 * use; the demo services read the bundled snapshot and repository and install
 * into a temporary root.
 */
import type { HostReport } from '../host/report.js';
import type { ImageCheck } from '../image/checks.js';
import type { ImageReport } from '../image/report.js';
import type { InstallPlan } from '../install/plan.js';
import type { Pool } from '../packages/pool.js';
import type { Distro } from '../variant/distro.js';
import type { Profile } from '../variant/profiles.js';
import type { Variant } from '../variant/suggest.js';
import type { LoadedModel } from '../mkosi/model.js';
import { WizardError } from '../errors.js';
import { CommandError, formatArgv } from '../system/run.js';
import { reportHint } from '../paths.js';

export interface Choices {
  addProfiles: string[];
  dropProfiles: string[];
  add: string[];
  remove: string[];
}

export const NO_CHOICES: Choices = { addProfiles: [], dropProfiles: [], add: [], remove: [] };

export const sameChoices = (a: Choices, b: Choices) => JSON.stringify(a) === JSON.stringify(b);

export interface SavedChoices {
  choices: Choices;
  savedAt: string;
}

export interface HostData {
  report: HostReport;
  distro: Distro;
  kernelVersion: string;
  profiles: Map<string, Profile>;
  /** Where the facts came from, for the header. */
  source: string;
  /** Saved choices are per host and distribution. */
  prefsKey: string;
  /** This machine's mkosi as the preview models it; null when mkosi >= 24 is not installed (the preview then shows only the variant). */
  mkosi?: LoadedModel | null;
}

export interface BuildProgress {
  stage(name: string): void;
  line(text: string): void;
}

export type ImageFormat = 'cpio' | 'uki';

/** What the Build screen asks for: the image format, and whether to build twice and compare. */
export interface BuildRequest {
  format: ImageFormat;
  reproducible: boolean;
}

export interface UkiSummary {
  generator: string;
  cmdline: string;
  cmdlineSource: string;
  sections: { name: string; size: number }[];
}

export interface ReproducibleSummary {
  identical: boolean;
  differences: { member: string; fields: string[]; cause: string }[];
  /** What the second build cost. */
  extraMs: number;
}

export interface BuildOutcome {
  format: ImageFormat;
  /** The UKI's sections and command line (format uki). */
  uki: UkiSummary | null;
  /** The comparison of two builds (when asked for). */
  reproducible: ReproducibleSummary | null;
  output: string;
  log: string;
  durationMs: number;
  image: ImageReport;
  current: { path: string; size: number } | null;
  checks: ImageCheck[];
  ok: boolean;
  /** Set when the demo replays a recorded build instead of running one. */
  replay: string | null;
}

export interface ReviewPlan {
  plan: InstallPlan;
  diff: string;
  root: string;
}

export interface AppliedInstall {
  changed: string[];
  notes: string[];
  root: string;
  revertCommand: string;
  /** What stays installed besides mkosi-initrd on that root. */
  fallback: string;
  /** The layout installed, and $BOOT for a UKI: regenerate runs kernel-install for exactly that. */
  layout: 'bls' | 'uki';
  bootDir?: string;
}

export interface Prefs {
  load(key: string): SavedChoices | null;
  save(key: string, choices: Choices): void;
  clear(key: string): void;
}

export interface WizardServices {
  mode: 'demo' | 'host';
  loadHost(): Promise<HostData>;
  saveSnapshot(): Promise<string>;
  loadPackages(host: HostData): Promise<Pool>;
  build(variant: Variant, host: HostData, progress: BuildProgress, signal: AbortSignal, request: BuildRequest): Promise<BuildOutcome>;
  /** Why this host cannot build a UKI (the missing tool and its package), or null when it can. */
  ukiUnavailable(host: HostData): Promise<string | null>;
  /** Why two builds cannot be compared here, when they cannot. */
  reproducibleUnavailable?: string;
  /** The install plan for the format the Build screen chose (layout=uki for a UKI, else bls). */
  plan(variant: Variant, host: HostData, format: ImageFormat): Promise<ReviewPlan>;
  /** Applies exactly the reviewed plan (refuses when the files changed since). */
  apply(review: ReviewPlan, variant: Variant, host: HostData, format: ImageFormat): Promise<AppliedInstall>;
  /** kernel-install add for the kernel, keeping the previous initrd; null when it cannot be offered. */
  regenerate: ((host: HostData, installed: AppliedInstall) => Promise<string[]>) | null;
  /** Why regenerate is not offered, when it is not. */
  regenerateUnavailable?: string;
  /** A line to print after the wizard ends. */
  exitNote?: string;
  /** Removes what these services made for this run (the demo's temporary root); called once, as the wizard ends. */
  dispose?(): Promise<void>;
  prefs: Prefs;
}

/** An error as the UI shows it: what failed, the command and its stderr tail, and the next step. */
export interface UiError {
  title: string;
  message: string;
  command?: string;
  stderrTail?: string[];
  hint?: string;
}

export function toUiError(title: string, err: unknown): UiError {
  if (err instanceof CommandError) {
    return {
      title,
      message: err.message,
      command: formatArgv(err.argv),
      stderrTail: err.stderr.trim().split('\n').filter(Boolean).slice(-6),
      hint: err.hint,
    };
  }
  if (err instanceof WizardError) return { title, message: err.message, hint: err.hint };
  const message = err instanceof Error ? err.message : String(err);
  return { title, message: `internal error: ${message}`, hint: reportHint() };
}
