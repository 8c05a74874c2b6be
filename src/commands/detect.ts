import { ExitCode } from '../errors.js';
import { obtainReport, type CommandResult, type HostSource } from './context.js';
import { formatReport } from './format.js';

export async function detectCommand(flags: HostSource): Promise<CommandResult> {
  const { report, missed } = await obtainReport(flags);
  return {
    json: report,
    text: formatReport(report),
    exitCode: report.unsupported.length ? ExitCode.unsupported : ExitCode.ok,
    // Missing tools are normal (no mdadm on a host without RAID); only a normal user's gaps change the answer.
    diagnostics: process.getuid?.() !== 0 && missed.length ? [`note: not everything could be read as a normal user: ${missed.join('; ')}`] : [],
  };
}
