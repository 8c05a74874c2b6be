import { ExitCode } from '../errors.js';
import { loadProfiles } from '../variant/profiles.js';
import { suggest } from '../variant/suggest.js';
import { obtainReport, resolveDistro, type CommandResult, type HostSource } from './context.js';
import { formatVariant } from './format.js';

export interface SuggestFlags extends HostSource {
  distro?: string;
  profilesDir?: string;
}

export async function suggestCommand(flags: SuggestFlags): Promise<CommandResult> {
  const { report } = await obtainReport(flags);
  const distro = resolveDistro(report, flags.distro);
  const profiles = await loadProfiles(flags.profilesDir);
  const variant = suggest(report, profiles, { distro });
  return {
    json: variant,
    text: formatVariant(variant),
    exitCode: report.unsupported.length ? ExitCode.unsupported : ExitCode.ok,
  };
}
