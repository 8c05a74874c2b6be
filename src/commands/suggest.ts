import { ExitCode } from '../errors.js';
import { analyzeSnapshot } from '../host/analyze.js';
import { cannotTellDiagnostics, cannotTellLines, exitCodeFor, incompleteError } from '../host/verdict.js';
import { loadProfiles } from '../variant/profiles.js';
import { suggest } from '../variant/suggest.js';
import { TOOL_NAME } from '../version.js';
import type { CommandResult } from './result.js';
import { obtainSnapshot, resolveDistro, type HostSource } from '../service/host.js';
import { formatVariant } from './format.js';

export interface SuggestFlags extends HostSource {
  distro?: string;
  profilesDir?: string;
}

export async function suggestCommand(flags: SuggestFlags): Promise<CommandResult> {
  const { snapshot } = await obtainSnapshot(flags);
  const report = analyzeSnapshot(snapshot);
  const distro = resolveDistro(report, flags.distro);
  const profiles = await loadProfiles(flags.profilesDir);
  const variant = suggest(report, profiles, { distro });
  const exitCode = exitCodeFor(report);
  // With facts missing the variant is shown for reference (what was seen), never as the answer.
  if (report.incomplete.length) {
    variant.notes.unshift('Cannot tell what this host needs: the snapshot lacks facts (see "incomplete"). The variant below covers only what was seen; do not build or install it.');
  }
  const json = { ...variant, incomplete: report.incomplete, ...(exitCode === ExitCode.badInput ? { error: incompleteError(report.incomplete) } : {}) };
  const text = report.incomplete.length ? [...cannotTellLines(report.incomplete), '', formatVariant(variant)].join('\n') : formatVariant(variant);
  return { json, text, exitCode, diagnostics: cannotTellDiagnostics(TOOL_NAME, report.incomplete) };
}
