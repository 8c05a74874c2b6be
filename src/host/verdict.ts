/**
 * What a HostReport means for the commands that show it (detect, suggest):
 * the exit code, and the "Cannot tell" wording when facts are missing.
 *
 * Exit codes: 3 when anything is unsupported (dracut must stay, and no
 * missing fact could change that); else 2 when facts are missing (the input
 * lacks what the answer needs: "bad input", fixed by capturing again, like
 * any other unusable snapshot); else 0.
 */
import { ExitCode } from '../errors.js';
import type { HostReport, IncompleteFact } from './report.js';

/** Lines of "cannot tell" on stderr; the JSON and the text list every one. */
const MAX_DIAGNOSTICS = 5;

export function exitCodeFor(report: HostReport): ExitCode {
  if (report.unsupported.length) return ExitCode.unsupported;
  if (report.incomplete.length) return ExitCode.badInput;
  return ExitCode.ok;
}

/** The same shape as every other exit-2 answer in --json ({"error": {message, hint}}), for scripts that handle exit 2 one way. */
export function incompleteError(incomplete: IncompleteFact[]): { message: string; hint: string } {
  const first = incomplete[0]!;
  const more = incomplete.length > 1 ? ` (and ${incomplete.length - 1} more)` : '';
  return { message: `cannot tell what the initrd must bring up: ${first.what}: ${first.reason}${more}`, hint: first.next };
}

/** The "Cannot tell" section of the text answer. */
export function cannotTellLines(incomplete: IncompleteFact[]): string[] {
  const out = ['Cannot tell: the snapshot lacks facts needed to follow the mounts the initrd must bring up down to the disks.'];
  for (const i of incomplete) {
    out.push(`  ${i.what}: ${i.reason}`);
    out.push(`    → ${i.next}`);
  }
  out.push('  Until these are known this is no answer: do not build or install from it.');
  return out;
}

/** stderr lines naming what is missing, at most MAX_DIAGNOSTICS. */
export function cannotTellDiagnostics(tool: string, incomplete: IncompleteFact[]): string[] {
  const out = incomplete.slice(0, MAX_DIAGNOSTICS).map((i) => `${tool}: cannot tell: ${i.what}: ${i.reason}`);
  if (incomplete.length > MAX_DIAGNOSTICS) out.push(`${tool}: cannot tell: … and ${incomplete.length - MAX_DIAGNOSTICS} more (see the report)`);
  if (incomplete.length) out.push(`${tool}: next step: ${incomplete[0]!.next}`);
  return out;
}
