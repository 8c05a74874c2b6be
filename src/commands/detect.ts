import { ExitCode } from '../errors.js';
import { analyzeSnapshot } from '../host/analyze.js';
import { cannotTellDiagnostics, exitCodeFor, incompleteError } from '../host/verdict.js';
import { TOOL_NAME } from '../version.js';
import type { CommandResult } from './result.js';
import { obtainSnapshot, type HostSource } from '../service/host.js';
import { formatReport } from './format.js';

export async function detectCommand(flags: HostSource): Promise<CommandResult> {
  // analyzeSnapshot, not analyze: detect shows what it could tell and what it could not, instead of only refusing.
  const { snapshot, missed } = await obtainSnapshot(flags);
  const report = analyzeSnapshot(snapshot);
  const exitCode = exitCodeFor(report);
  // Missing tools are normal (no mdadm on a host without RAID); only a normal user's gaps change the answer.
  const userGaps = process.getuid?.() !== 0 && missed.length ? [`note: not everything could be read as a normal user: ${missed.join('; ')}`] : [];
  return {
    json: exitCode === ExitCode.badInput ? { ...report, error: incompleteError(report.incomplete) } : report,
    text: formatReport(report),
    exitCode,
    diagnostics: [...userGaps, ...cannotTellDiagnostics(TOOL_NAME, report.incomplete)],
  };
}
