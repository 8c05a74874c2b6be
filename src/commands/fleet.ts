/** `fleet PATH…`: many snapshots at once, as a table, JSON or CSV. */
import { ExitCode, InputError } from '../errors.js';
import { fleetAnswers, fleetEntries, FleetTally, fleetVerdict, fleetWhy, type FleetVerdict, type FleetAnswer, type FleetEntry, type FleetHost, type FleetReport, type FleetSummary } from '../service/fleet.js';
import { loadProfiles } from '../variant/profiles.js';
import type { StreamedResult } from './result.js';

export interface FleetFlags {
  paths: string[];
  csv?: boolean;
  profilesDir?: string;
  /** Worker threads (default: one a core, up to four; 1 answers on this thread). */
  threads?: number;
}

const VERDICT: Record<FleetVerdict, string> = { unreadable: 'UNREADABLE', unsupported: 'NOT SUPPORTED', 'cannot-tell': 'CANNOT TELL', supported: 'supported' };
const verdict = (h: FleetHost) => VERDICT[fleetVerdict(h)];

/** A spreadsheet cell: quoted when needed, and never read as a formula (a leading = + - @ gets a '). */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const CSV_HEADER = ['host', 'path', 'verdict', 'features', 'unsupported', 'variant', 'detail'];

function csvRow(h: FleetHost): string {
  return [h.name, h.path, verdict(h), h.features.join(' '), h.unsupported.map((u) => `${u.id}:${u.device}`).join(' '), h.variant ?? '', h.error ?? h.incomplete.join('; ')].map(csvCell).join(',');
}

function textRow(h: FleetHost, nameW: number): string {
  const why = h.error ?? fleetWhy(h);
  return `${h.name.padEnd(nameW)}  ${verdict(h).padEnd(13)}  ${(h.variant ?? '-').padEnd(12)}  ${why}`;
}

/** Advice can name a host's own device (a detached header's offset): grouped by its words, with the first hosts it is for and how many. */
class AdviceTally {
  private readonly byWords = new Map<string, { id: string; hosts: string[]; count: number }>();

  add(h: FleetHost): void {
    for (const u of h.unsupported) {
      const a = this.byWords.get(u.advice) ?? { id: u.id, hosts: [], count: 0 };
      if (a.hosts[a.hosts.length - 1] === h.name) continue;
      a.count++;
      if (a.hosts.length < 3) a.hosts.push(h.name);
      this.byWords.set(u.advice, a);
    }
  }

  lines(): string[] {
    if (!this.byWords.size) return [];
    const out = ['', 'What to do about the hosts that are not supported:'];
    for (const [words, a] of this.byWords) out.push(`  [${a.id}] ${a.count > 3 ? `${a.hosts.join(', ')} and ${a.count - 3} more` : a.hosts.join(', ')}: ${words}`);
    return out;
  }
}

function closingText(variants: FleetReport['variants'], s: FleetSummary, advice: AdviceTally): string[] {
  const n = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  return [
    '',
    `${s.variants} variant${s.variants === 1 ? '' : 's'} cover${s.variants === 1 ? 's' : ''} ${s.supported} supported host${s.supported === 1 ? '' : 's'} of ${s.hosts}; ${s.unsupported} not supported, ${s.cannotTell} cannot tell, ${s.unreadable} unreadable.`,
    ...variants.map((v) => `  ${v.id}  ${n(v.hosts.length, 'host').padEnd(11)}  ${v.distro}: ${v.profiles.join(', ')} · ${n(v.packages.length, 'package')} · ${n(v.modules.length, 'module')}`),
    ...advice.lines(),
  ];
}

const nameWidth = (entries: ReadonlyArray<{ name: string }>) => Math.min(40, Math.max(4, ...entries.map((e) => e.name.length)));

/** Every line of JSON.stringify(value, null, 2) but the first, indented by `by` more: a value placed inside an object written piece by piece. */
const nested = (value: unknown, by: string) => JSON.stringify(value, null, 2).replace(/\n/g, `\n${by}`);

/** The report as pieces, in each form, written as the hosts' answers arrive. */
async function* fleetPieces(entries: FleetEntry[], answers: AsyncIterable<FleetAnswer[]>, form: 'json' | 'text' | 'csv', tally: FleetTally): AsyncGenerator<string> {
  const advice = new AdviceTally();
  const nameW = nameWidth(entries);
  if (form === 'json') yield entries.length ? '{\n  "hosts": [' : '{\n  "hosts": [],';
  if (form === 'csv') yield CSV_HEADER.join(',') + '\n';
  if (form === 'text') yield `${'host'.padEnd(nameW)}  ${'verdict'.padEnd(13)}  ${'variant'.padEnd(12)}  features / why not\n`;
  let first = true;
  for await (const batch of answers) {
    const out: string[] = [];
    for (const answer of batch) {
      tally.add(answer);
      advice.add(answer.host);
      if (form === 'json') out.push(`${first ? '' : ','}\n    ${nested(answer.host, '    ')}`);
      else out.push(form === 'csv' ? csvRow(answer.host) + '\n' : textRow(answer.host, nameW) + '\n');
      first = false;
    }
    yield out.join('');
  }
  if (form === 'json') yield `${entries.length ? '\n  ],' : ''}\n  "variants": ${nested(tally.variants(), '  ')},\n  "summary": ${nested(tally.summary(), '  ')}\n}\n`;
  if (form === 'text') yield closingText(tally.variants(), tally.summary(), advice).join('\n') + '\n';
}

export async function fleetCommand(flags: FleetFlags): Promise<StreamedResult> {
  if (!flags.paths.length) throw new InputError('fleet needs at least one snapshot, or a directory of snapshots', 'collect them with `initrd-wizard snapshot --output FILE.tar` on each host');
  const profiles = await loadProfiles(flags.profilesDir);
  const entries = await fleetEntries(flags.paths);
  const tally = new FleetTally();
  return {
    // Hosts are answered as they are written: nothing but the variants' host names is kept (see FleetTally).
    stream: (form) => fleetPieces(entries, fleetAnswers(entries, profiles, { threads: flags.threads }), form === 'json' ? 'json' : flags.csv ? 'csv' : 'text', tally),
    exitCode: () => {
      const s = tally.summary();
      return s.unsupported || s.cannotTell ? ExitCode.unsupported : s.unreadable ? ExitCode.failed : ExitCode.ok;
    },
  };
}
