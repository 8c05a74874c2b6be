/** `fleet PATH…`: many snapshots at once, as a table, JSON or CSV. */
import { ExitCode, InputError } from '../errors.js';
import { analyzeFleet, type FleetReport } from '../service/fleet.js';
import { loadProfiles } from '../variant/profiles.js';
import type { CommandResult } from './result.js';

export interface FleetFlags {
  paths: string[];
  csv?: boolean;
  profilesDir?: string;
}

const verdict = (h: FleetReport['hosts'][number]) => (h.error ? 'UNREADABLE' : h.unsupported.length ? 'NOT SUPPORTED' : h.incomplete.length ? 'CANNOT TELL' : 'supported');

/** A spreadsheet cell: quoted when needed, and never read as a formula (a leading = + - @ gets a '). */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function fleetCsv(r: FleetReport): string {
  const rows = [['host', 'path', 'verdict', 'features', 'unsupported', 'variant', 'detail']];
  for (const h of r.hosts) {
    rows.push([h.name, h.path, verdict(h), h.features.join(' '), h.unsupported.map((u) => `${u.id}:${u.device}`).join(' '), h.variant ?? '', h.error ?? h.incomplete.join('; ')]);
  }
  return rows.map((row) => row.map(csvCell).join(',')).join('\n');
}

export function fleetText(r: FleetReport): string {
  const s = r.summary;
  const nameW = Math.min(40, Math.max(4, ...r.hosts.map((h) => h.name.length)));
  const out = [`${'host'.padEnd(nameW)}  ${'verdict'.padEnd(13)}  ${'variant'.padEnd(12)}  features / why not`];
  for (const h of r.hosts) {
    const why = h.error ?? (h.unsupported.length ? h.unsupported.map((u) => `${u.id} on ${u.device}`).join(', ') : h.incomplete.length ? h.incomplete[0]! : h.features.join(', ') || '-');
    out.push(`${h.name.padEnd(nameW)}  ${verdict(h).padEnd(13)}  ${(h.variant ?? '-').padEnd(12)}  ${why}`);
  }
  out.push('');
  out.push(`${s.variants} variant${s.variants === 1 ? '' : 's'} cover${s.variants === 1 ? 's' : ''} ${s.supported} supported host${s.supported === 1 ? '' : 's'} of ${s.hosts}; ${s.unsupported} not supported, ${s.cannotTell} cannot tell, ${s.unreadable} unreadable.`);
  const n = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  for (const v of r.variants) out.push(`  ${v.id}  ${n(v.hosts.length, 'host').padEnd(11)}  ${v.distro}: ${v.profiles.join(', ')} · ${n(v.packages.length, 'package')} · ${n(v.modules.length, 'module')}`);
  // Advice can name a host's own device (a detached header's offset): grouped by its words, with the hosts it is for.
  const advice = new Map<string, { id: string; hosts: string[] }>();
  for (const h of r.hosts) {
    for (const u of h.unsupported) {
      const a = advice.get(u.advice) ?? { id: u.id, hosts: [] };
      if (!a.hosts.includes(h.name)) a.hosts.push(h.name);
      advice.set(u.advice, a);
    }
  }
  if (advice.size) {
    out.push('', 'What to do about the hosts that are not supported:');
    for (const [words, a] of advice) out.push(`  [${a.id}] ${a.hosts.length > 3 ? `${a.hosts.slice(0, 3).join(', ')} and ${a.hosts.length - 3} more` : a.hosts.join(', ')}: ${words}`);
  }
  return out.join('\n');
}

export async function fleetCommand(flags: FleetFlags): Promise<CommandResult> {
  if (!flags.paths.length) throw new InputError('fleet needs at least one snapshot, or a directory of snapshots', 'collect them with `initrd-wizard snapshot --output DIR` on each host');
  const r = await analyzeFleet(flags.paths, await loadProfiles(flags.profilesDir));
  const s = r.summary;
  const exitCode = s.unsupported || s.cannotTell ? ExitCode.unsupported : s.unreadable ? ExitCode.failed : ExitCode.ok;
  return { json: r, text: flags.csv ? fleetCsv(r) : fleetText(r), exitCode };
}
