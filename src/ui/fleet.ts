/**
 * The wizard's fleet table (`initrd-wizard --fleet PATH`): every host with
 * its verdict and variant, and the variants that cover the supported hosts.
 * Pure: a state, what a key does to it, and the frame it draws. Opening a
 * host is an answer (`open`), which the runner turns into the host's own
 * wizard and, when that ends, this table again where it was.
 */
import { fleetVerdict, fleetWhy, type FleetHost, type FleetReport, type FleetVerdict } from '../service/fleet.js';
import { commandIn, FLEET_BINDINGS, footerIn, helpIn, type FleetKeyContext } from './keymap.js';
import type { KeyName } from './keys.js';
import { exactly, fitLine, footerKeyLine, rule, selectable, windowed, wrapLine, type Line, type Tone } from './view.js';
import { column, moveCursor } from './window.js';

export interface FleetViewState {
  report: FleetReport;
  /** What was named with --fleet, for the header. */
  source: string;
  tab: 'hosts' | 'variants';
  /** Rows of the hosts tab: one variant's hosts, or all. */
  variant: string | null;
  hostCursor: number;
  variantCursor: number;
  help: boolean;
  notice: string | null;
  width: number;
  height: number;
}

export function fleetView(report: FleetReport, source: string): FleetViewState {
  return { report, source, tab: 'hosts', variant: null, hostCursor: 0, variantCursor: 0, help: false, notice: null, width: 100, height: 30 };
}

/** The hosts the hosts tab lists now. */
export function shownHosts(s: FleetViewState): FleetHost[] {
  return s.variant === null ? s.report.hosts : s.report.hosts.filter((h) => h.variant === s.variant);
}

const selectedHost = (s: FleetViewState): FleetHost | undefined => shownHosts(s)[s.hostCursor];

export function fleetKeyContext(s: FleetViewState): FleetKeyContext {
  const h = selectedHost(s);
  return { tab: s.tab, filtered: s.tab === 'hosts' && s.variant !== null, openable: Boolean(h && !h.error) };
}

/** Rows of the list: the frame less its header (4 lines), footer (3), the list's column names, the rule above the detail, and the detail. */
const listHeight = (s: FleetViewState) => Math.max(3, s.height - 9 - DETAIL_ROWS(s));
const DETAIL_ROWS = (s: FleetViewState) => Math.min(8, Math.max(3, Math.floor(s.height / 4)));

export type FleetAnswer = { state: FleetViewState; open?: FleetHost; quit?: boolean };

export function fleetKey(s: FleetViewState, k: KeyName): FleetAnswer {
  if (s.help) return { state: { ...s, help: false } };
  if (k === 'ctrl-c') return { state: s, quit: true };
  const cmd = commandIn(FLEET_BINDINGS, k, fleetKeyContext(s));
  const st = { ...s, notice: null };
  switch (cmd) {
    case 'up':
    case 'down':
    case 'pageup':
    case 'pagedown':
    case 'home':
    case 'end':
      return st.tab === 'hosts'
        ? { state: { ...st, hostCursor: moveCursor(st.hostCursor, cmd, shownHosts(st).length, listHeight(st)) } }
        : { state: { ...st, variantCursor: moveCursor(st.variantCursor, cmd, st.report.variants.length, listHeight(st)) } };
    case 'switch':
      return { state: { ...st, tab: st.tab === 'hosts' ? 'variants' : 'hosts' } };
    case 'back':
      return { state: { ...st, variant: null, hostCursor: 0 } };
    case 'help':
      return { state: { ...st, help: true } };
    case 'quit':
      return { state: st, quit: true };
    case 'open': {
      if (st.tab === 'variants') {
        const v = st.report.variants[st.variantCursor];
        return v ? { state: { ...st, tab: 'hosts', variant: v.id, hostCursor: 0 } } : { state: st };
      }
      const h = selectedHost(st);
      if (!h) return { state: st };
      if (h.error) return { state: { ...st, notice: `${h.name} cannot be opened: its snapshot cannot be read (see below)` } };
      return { state: st, open: h };
    }
    default:
      return { state: st };
  }
}

const VERDICT: Record<FleetVerdict, { t: string; tone: Tone }> = {
  unreadable: { t: 'unreadable', tone: 'bad' },
  unsupported: { t: 'NOT SUPPORTED', tone: 'bad' },
  'cannot-tell': { t: 'cannot tell', tone: 'warn' },
  supported: { t: 'supported', tone: 'good' },
};

function hostRow(h: FleetHost, selected: boolean, nameW: number, width: number): Line {
  const why = h.error ? 'cannot be read' : fleetWhy(h);
  const v = VERDICT[fleetVerdict(h)];
  return fitLine(selectable(selected, [{ t: column(h.name, nameW) }, { t: v.t.padEnd(14), tone: v.tone }, { t: (h.variant ?? '-').padEnd(14), tone: 'dim' }, { t: why }]), width);
}

function hostDetail(h: FleetHost | undefined, width: number): Line[] {
  if (!h) return [];
  const out: Line[] = [[{ t: h.name, bold: true }, { t: `  ${h.path}`, tone: 'dim' }]];
  if (h.error) out.push(...wrapLine([{ t: 'unreadable: ', tone: 'bad', bold: true }, { t: h.error }], width));
  for (const u of h.unsupported) out.push(...wrapLine([{ t: `${u.id} on ${u.device}: `, tone: 'bad', bold: true }, { t: u.advice }], width));
  for (const i of h.incomplete) out.push(...wrapLine([{ t: 'cannot tell: ', tone: 'warn', bold: true }, { t: i }], width));
  if (h.supported) out.push(...wrapLine([{ t: 'features: ', tone: 'dim' }, { t: h.features.join(', ') || 'a plain disk' }, { t: `  variant ${h.variant}`, tone: 'dim' }], width));
  return out;
}

function variantRow(v: FleetReport['variants'][number], selected: boolean, width: number): Line {
  return fitLine(selectable(selected, [{ t: v.id.padEnd(14) }, { t: `${v.hosts.length} host${v.hosts.length === 1 ? '' : 's'}`.padEnd(12), tone: 'good' }, { t: `${v.distro}: ${v.profiles.join(', ')}` }]), width);
}

function variantDetail(v: FleetReport['variants'][number] | undefined, width: number): Line[] {
  if (!v) return [];
  const some = v.hosts.length > 6 ? `${v.hosts.slice(0, 6).join(', ')} and ${v.hosts.length - 6} more` : v.hosts.join(', ');
  return [
    ...wrapLine([{ t: 'packages: ', tone: 'dim' }, { t: v.packages.join(' ') || 'none beyond mkosi-initrd\'s own' }], width),
    ...wrapLine([{ t: 'modules: ', tone: 'dim' }, { t: v.modules.join(' ') || 'none beyond mkosi-initrd\'s own' }], width),
    ...wrapLine([{ t: 'hosts: ', tone: 'dim' }, { t: some }], width),
  ];
}

export function fleetFrame(s: FleetViewState): Line[] {
  const { width, height } = s;
  const sum = s.report.summary;
  const header: Line[] = [
    [{ t: 'initrd-wizard', tone: 'title', bold: true }, { t: `  fleet ${s.source}`, tone: 'dim' }],
    [
      { t: `${sum.hosts} host${sum.hosts === 1 ? '' : 's'}: ` },
      { t: `${sum.supported} supported`, tone: 'good' },
      { t: `, ${sum.unsupported} not supported, ${sum.cannotTell} cannot tell, ${sum.unreadable} unreadable · ` },
      { t: `${sum.variants} variant${sum.variants === 1 ? '' : 's'}`, tone: 'accent' },
    ],
    [
      s.tab === 'hosts' ? { t: s.variant ? ` Hosts of ${s.variant} ` : ' Hosts ', inverse: true, bold: true } : { t: 'Hosts', tone: 'dim' },
      { t: '   ' },
      s.tab === 'variants' ? { t: ' Variants ', inverse: true, bold: true } : { t: 'Variants', tone: 'dim' },
    ],
    rule(width),
  ];
  const footer: Line[] = [rule(width), s.notice ? [{ t: s.notice, tone: 'accent' }] : [], s.help ? [{ t: 'any key closes this help', tone: 'key' }] : footerKeyLine(footerIn(FLEET_BINDINGS, fleetKeyContext(s)))];
  const room = height - header.length - footer.length;
  let body: Line[];
  if (s.help) {
    const rows = helpIn(FLEET_BINDINGS, 'quit');
    const w = Math.max(...rows.map((r) => r.keys.length)) + 2;
    body = [[{ t: 'Keys', tone: 'title', bold: true }], [], ...rows.flatMap((r) => wrapLine([{ t: `  ${r.keys.padEnd(w)}`, tone: 'key', bold: true }, { t: r.what }], width, w + 2))];
  } else if (s.tab === 'hosts') {
    const hosts = shownHosts(s);
    const nameW = Math.min(32, Math.max(6, ...hosts.map((h) => h.name.length + 2)));
    const list = [fitLine([{ t: `  ${'host'.padEnd(nameW)}${'verdict'.padEnd(14)}${'variant'.padEnd(14)}features / why not`, tone: 'dim' }], width), ...windowed(hosts, s.hostCursor, listHeight(s), (h, sel) => hostRow(h, sel, nameW, width))];
    body = [...exactly(list, listHeight(s) + 1), rule(width), ...hostDetail(hosts[s.hostCursor], width).slice(0, DETAIL_ROWS(s))];
  } else {
    const list = [fitLine([{ t: `  ${'variant'.padEnd(14)}${'hosts'.padEnd(12)}release: profiles`, tone: 'dim' }], width), ...windowed(s.report.variants, s.variantCursor, listHeight(s), (v, sel) => variantRow(v, sel, width))];
    if (!s.report.variants.length) list.push([{ t: '  No host is supported: no variant to build.', tone: 'warn' }]);
    body = [...exactly(list, listHeight(s) + 1), rule(width), ...variantDetail(s.report.variants[s.variantCursor], width).slice(0, DETAIL_ROWS(s))];
  }
  return [...header, ...exactly(body, room), ...footer].map((l) => fitLine(l, width));
}
