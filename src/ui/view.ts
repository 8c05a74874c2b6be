/**
 * Every screen as plain lines of coloured segments, sized to the terminal.
 * Pure: the App renders these lines with Ink, tests and benchmarks call them
 * directly. Lists are windowed here, so 64,000 rows cost the same as 30.
 */
import type { HostReport, StackNode, StorageDevice } from '../host/report.js';
import { treeRows } from '../text/tree.js';
import { generatorName } from '../host/generator.js';
import { DIALOG_FOOTER, footerEntries, helpRows, type FooterEntry, type KeyContext } from './keymap.js';
import type { ClosurePackage } from '../packages/resolve.js';
import { formatBytes } from '../text/bytes.js';
import type { Variant } from '../variant/suggest.js';
import type { ClosureView, PackageRow, ProfileRow, WithoutIt } from './derive.js';
import type { Origin } from '../mkosi/installset.js';
import { sizeShares } from './derive.js';
import { SCREENS, SCREEN_TITLES, hasUnapplied, type WizardState } from './state.js';
import type { HostData, UiError } from './services.js';
import { clamp, column, fit, windowStart } from './window.js';
import { printableLine } from '../text/printable.js';
import { wrapWords } from '../text/wrap.js';

export type Tone = 'title' | 'dim' | 'bad' | 'good' | 'warn' | 'accent' | 'key';
export interface Seg {
  t: string;
  tone?: Tone;
  bold?: boolean;
  inverse?: boolean;
}
export type Line = Seg[];

const L = (t: string, tone?: Tone, bold?: boolean): Line => [{ t, tone, bold }];
export const lineText = (l: Line) => l.map((s) => s.t).join('');

/** Cuts each line to the width, so nothing wraps and the frame keeps its height. */
export function fitLine(line: Line, width: number): Line {
  const out: Line = [];
  let left = width;
  for (const s of line) {
    if (left <= 0) break;
    // A tab would move the cursor past the width the frame was laid out for;
    // an escape from a snapshot or a package name would repaint the terminal.
    const raw = printableLine(s.t.includes('\t') ? s.t.replace(/\t/g, '    ') : s.t);
    const t = raw.length > left ? fit(raw, left) : raw;
    out.push({ ...s, t });
    left -= t.length;
  }
  return out;
}

/**
 * Breaks a line of segments at spaces into lines of at most `width` columns,
 * later lines indented by `indent`, so a long note, why-chain or error is read
 * whole instead of ending in "…". A word longer than a line is cut by fitLine.
 */
export function wrapLine(line: Line, width: number, indent = 4): Line[] {
  if (width <= indent + 10 || lineText(line).length <= width) return [line];
  const out: Line[] = [];
  let cur: Line = [];
  let used = 0;
  const pad = ' '.repeat(indent);
  for (const seg of line) {
    for (const word of seg.t.split(/(?<= )/)) {
      if (used + word.trimEnd().length > width && used > indent) {
        out.push(cur);
        cur = [{ t: pad }];
        used = indent;
        if (!word.trim()) continue;
      }
      const last = cur[cur.length - 1];
      if (last && last.tone === seg.tone && last.bold === seg.bold && last.inverse === seg.inverse && last !== cur[0]) last.t += word;
      else cur.push({ ...seg, t: word });
      used += word.length;
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Pads or cuts a list of lines to exactly `height`. */
export function exactly(lines: Line[], height: number): Line[] {
  const out = lines.slice(0, Math.max(0, height));
  while (out.length < height) out.push([]);
  return out;
}

/** A window of `height` rows around the cursor, with a position marker when the list is longer. */
export function windowed<T>(items: T[], cursor: number, height: number, row: (item: T, selected: boolean, index: number) => Line): Line[] {
  if (height <= 0) return [];
  const c = clamp(cursor, items.length);
  const start = windowStart(c, items.length, height);
  const out: Line[] = [];
  for (let i = start; i < Math.min(items.length, start + height); i++) out.push(row(items[i]!, i === c, i));
  return out;
}

// List rows stay plain ASCII where they can: Ink measures every line of every
// frame, and ASCII takes string-width's fast path (a keystroke is cheaper).
/** A horizontal rule across the frame. */
export const rule = (width: number): Line => L('─'.repeat(Math.max(0, width)), 'dim');

export function selectable(selected: boolean, segs: Line): Line {
  return [{ t: selected ? '> ' : '  ', tone: 'accent', bold: true }, ...segs.map((s) => (selected ? { ...s, bold: true } : s))];
}

// ─── Frame ───────────────────────────────────────────────────────────────────

export interface FrameInput {
  state: WizardState;
  width: number;
  height: number;
  mode: 'demo' | 'host';
  host: HostData | null;
  /** What the keys mean now: the footer lists exactly that. */
  keys: KeyContext;
}

export function headerLines(f: FrameInput): Line[] {
  const src = f.host ? `${f.host.source} · ${f.host.report.host.prettyName || f.host.distro.id}` : 'reading the host…';
  const crumbs: Line = [];
  SCREENS.forEach((s, i) => {
    if (i) crumbs.push({ t: ' › ', tone: 'dim' });
    crumbs.push(s === f.state.screen ? { t: ` ${SCREEN_TITLES[s]} `, inverse: true, bold: true } : { t: SCREEN_TITLES[s], tone: SCREENS.indexOf(f.state.screen) > i ? 'good' : 'dim' });
  });
  return [[{ t: 'initrd-wizard', tone: 'title', bold: true }, { t: f.mode === 'demo' ? '  DEMO  ' : '  ', tone: 'warn', bold: true }, { t: src, tone: 'dim' }], crumbs, rule(f.width)];
}

export function footerLines(f: FrameInput): Line[] {
  const s = f.state;
  const status: Line = s.error
    ? [{ t: `✗ ${s.error.title}`, tone: 'bad', bold: true }, { t: ' (details above · esc to dismiss)', tone: 'dim' }]
    : s.notice
      ? [{ t: s.notice, tone: 'accent' }]
      : [];
  const dialog = s.overlay !== 'none' ? DIALOG_FOOTER[s.overlay] : s.search.open && s.screen === 'packages' ? DIALOG_FOOTER.search : null;
  if (dialog) return [rule(f.width), status, L(dialog, 'key')];
  return [rule(f.width), status, footerKeyLine(footerEntries(f.keys))];
}

/** The keys offered now, in one line: help and quit dimmed. */
export function footerKeyLine(entries: FooterEntry[]): Line {
  return entries.map((e, i) => ({ t: `${i ? ' · ' : ''}${e.keys} ${e.what}`, tone: e.quiet ? 'dim' : 'key' }));
}

export function errorLines(e: UiError, width = 120): Line[] {
  const out: Line[] = [[{ t: `✗ ${e.title}`, tone: 'bad', bold: true }]];
  for (const l of e.message.split('\n')) out.push(...wrapLine(L(`  ${l}`, 'bad'), width));
  if (e.command) out.push(...wrapLine([{ t: '  command: ', tone: 'dim' }, { t: e.command }], width));
  for (const l of e.stderrTail ?? []) out.push(L(`  │ ${l}`, 'dim'));
  if (e.hint) out.push(...wrapLine([{ t: '  next step: ', tone: 'accent', bold: true }, { t: e.hint }], width));
  return out;
}

/** The keys, once: the footer says how to close it. */
function helpLines(): Line[] {
  const rows = helpRows();
  const w = Math.max(...rows.map((r) => r.keys.length)) + 2;
  return [L('Keys', 'title', true), [], ...rows.map((r): Line => [{ t: `  ${r.keys.padEnd(w)}`, tone: 'key', bold: true }, { t: r.what }])];
}

function discardLines(s: WizardState): Line[] {
  const c = s.restored?.choices;
  return [
    L('Discard the saved choices?', 'title', true),
    [],
    L(c ? `  They add ${c.add.length} and remove ${c.remove.length} package(s), add ${c.addProfiles.length} and drop ${c.dropProfiles.length} profile(s). Discarded, they are gone for good.` : '  They are gone for good.'),
    L('  What is on screen now is kept, and saved from then on.', 'dim'),
    [],
    [{ t: '  y', tone: 'key', bold: true }, { t: ' discard   ' }, { t: 'n/esc', tone: 'key', bold: true }, { t: ' keep them (r on Packages restores them)' }],
  ];
}

function quitLines(s: WizardState): Line[] {
  return [
    L('Quit?', 'title', true),
    [],
    L(s.build.status === 'running' ? '  A build is running: quitting cancels it (the child is stopped, temporary files removed).' : s.build.status === 'done' ? '  The build is done but nothing was installed: the boot configuration is unchanged.' : '  The reviewed changes were not applied: the boot configuration is unchanged.'),
    L('  Your package choices are saved and offered next time.', 'dim'),
    [],
    [{ t: '  y', tone: 'key', bold: true }, { t: ' quit   ' }, { t: 'n/esc', tone: 'key', bold: true }, { t: ' stay' }],
  ];
}

// ─── Host ────────────────────────────────────────────────────────────────────

function deviceLabel(d: StorageDevice | undefined, node: StackNode): Line {
  if (!d) return [{ t: node.name, bold: true }, { t: `  ${node.type}`, tone: 'accent' }];
  return [{ t: d.name, bold: true }, { t: `  ${d.type}`, tone: 'accent' }, { t: `  ${[d.role, d.fstype, d.size ? formatBytes(d.size) : '', d.transport ?? ''].filter(Boolean).join(' · ')}`, tone: 'dim' }];
}

/** Breaks text at spaces into lines of at most `width` columns (a long word is cut later by fitLine). */

export function hostLines(report: HostReport, width = 120): Line[] {
  const out: Line[] = [];
  const byName = new Map(report.devices.map((d) => [d.name, d]));
  const flagged = new Set(report.unsupported.map((u) => u.device));
  out.push(L(`${report.host.prettyName}${report.host.kernel ? ` · kernel ${report.host.kernel}` : ''}`, 'title', true));
  // The verdict first: on a small terminal the details below may start under the fold.
  if (report.unsupported.length) out.push(L(`NOT SUPPORTED by a package-built initrd (${[...new Set(report.unsupported.map((u) => u.id))].join(', ')}): why and what to do below.`, 'bad', true));
  else out.push(L('Supported: mkosi-initrd can build an initrd for this host.', 'good', true));
  out.push([]);
  out.push(L('Storage the initrd must bring up, from each mount down to the disks', 'title'));
  for (const m of report.mounts) {
    const what = m.role === 'resume' ? 'resume (hibernation)' : m.target;
    out.push([{ t: '  ' }, { t: what, tone: 'good', bold: true }, { t: `  ${m.fstype || '?'}${m.subvolume ? ` subvolume ${m.subvolume}` : ''}`, tone: 'dim' }]);
    if (!m.stack) continue;
    for (const { prefix, node } of treeRows(m.stack, (n) => n.children)) {
      const bad = flagged.has(node.name);
      const label = node.repeat ? [{ t: node.name, bold: true }, { t: `  ${node.type}`, tone: 'accent' as Tone }, { t: '  (as above)', tone: 'dim' as Tone }] : deviceLabel(byName.get(node.name), node);
      out.push([{ t: `  ${prefix}`, tone: 'dim' }, ...label.map((s) => (bad ? { ...s, tone: 'bad' as Tone } : s))]);
    }
  }
  out.push([]);
  if (report.features.length) {
    out.push(L('Detected features', 'title'));
    for (const f of report.features) {
      const reasons = report.featureReasons[f] ?? [];
      out.push([{ t: `  ${f.padEnd(10)}`, tone: 'good', bold: true }, { t: reasons[0] ?? '' }]);
      for (const r of reasons.slice(1)) out.push([{ t: `  ${''.padEnd(10)}` }, { t: r, tone: 'dim' }]);
    }
  } else if (report.unsupported.length) out.push(L('No storage feature a package-built initrd handles was detected (see NOT SUPPORTED below).', 'dim'));
  else out.push(L('No storage features detected: a plain disk.', 'dim'));
  out.push([]);
  if (report.unsupported.length) {
    out.push(L(`NOT SUPPORTED by a package-built initrd — keep ${generatorName(report.host.initrdGenerator)} on this host`, 'bad', true));
    for (const u of report.unsupported) {
      const tag = `  [${u.id}] `;
      // The reason starts with the device already.
      wrapWords(u.reason, width - tag.length).forEach((l, i) => out.push([{ t: i ? ' '.repeat(tag.length) : tag, tone: 'bad', bold: true }, { t: l }]));
      wrapWords(u.advice, width - 7).forEach((l, i) => out.push([{ t: i ? '       ' : '     → ', tone: 'accent' }, { t: l }]));
    }
    out.push([]);
    out.push(L('Press s to save a snapshot and attach it to a bug report; installing is not offered.', 'warn'));
  }
  if (report.warnings.length) {
    out.push([]);
    out.push(L('Warnings', 'warn'));
    for (const w of report.warnings) wrapWords(w, width - 4).forEach((l, i) => out.push(L(`  ${i ? ' ' : '-'} ${l}`, 'warn')));
  }
  // Whatever is still wider than the terminal (a long device label, a feature's reason) wraps rather than ending in "…".
  return out.flatMap((l) => wrapLine(l, width, 4));
}

// ─── Variant ─────────────────────────────────────────────────────────────────

export function variantLines(rows: ProfileRow[], variant: Variant | null, cursor: number, height: number, width: number): Line[] {
  const head: Line[] = [
    variant
      ? [{ t: 'Variant: ', tone: 'title' }, { t: `${variant.profiles.length} profiles · ${variant.packages.length} package${variant.packages.length === 1 ? '' : 's'} beyond mkosi-initrd's own · ${variant.kernelModules.length} kernel modules · ${variant.hostFiles.length} host files`, bold: true }]
      : L('Variant: —', 'title'),
    L(`${'profile'.padEnd(18)}${'pkgs'.padStart(5)}  why / what`, 'dim'),
  ];
  const notes = (variant?.notes ?? []).flatMap((n) => wrapLine(L(`note: ${n}`, 'warn'), width, 6)).slice(0, Math.max(2, Math.floor(height / 3)));
  const listH = Math.max(1, height - head.length - notes.length - 1);
  const list = windowed(rows, cursor, listH, (r, sel) =>
    selectable(sel, [
      { t: r.selected ? '[x] ' : '[ ] ', tone: r.selected ? 'good' : 'dim', bold: true },
      { t: r.name.padEnd(14), bold: r.selected },
      { t: String(r.packages).padStart(5) + '  ', tone: 'dim' },
      { t: r.selected ? r.reason : r.summary, tone: r.selected ? undefined : 'dim' },
      ...(r.detected && !r.selected ? [{ t: '  (detected, dropped by you)', tone: 'warn' as Tone }] : []),
    ]),
  );
  return [...head, ...exactly(list, listH), [], ...notes].map((l) => fitLine(l, width));
}

// ─── Packages ────────────────────────────────────────────────────────────────

export function packageLines(s: WizardState, rows: PackageRow[], results: string[] | null, searchReady: boolean, searchMs: number | null, height: number, width: number): Line[] {
  const out: Line[] = [];
  const adds = s.choices.add.length;
  const removes = s.choices.remove.length;
  out.push([{ t: 'Packages: ', tone: 'title' }, { t: `${rows.filter((r) => !r.removed).length} requested`, bold: true }, { t: `  (you: +${adds} −${removes})`, tone: 'dim' }]);
  if (s.restored) {
    const c = s.restored.choices;
    out.push([{ t: `Saved choices from ${s.restored.savedAt.slice(0, 16).replace('T', ' ')}: +${c.add.length} −${c.remove.length} packages, +${c.addProfiles.length} −${c.dropProfiles.length} profiles. `, tone: 'accent' }, { t: 'r', tone: 'key', bold: true }, { t: ' restore · ', tone: 'dim' }, { t: 'x', tone: 'key', bold: true }, { t: ' discard', tone: 'dim' }]);
  }
  if (s.search.open) {
    out.push([{ t: 'search: ', tone: 'accent', bold: true }, { t: s.search.query, bold: true }, { t: '█', tone: 'accent' }, { t: searchReady ? (results ? `  ${results.length}${results.length >= 200 ? '+' : ''} matches${searchMs !== null ? ` · ${searchMs.toFixed(0)} ms` : ''}` : '  type a name') : '  loading package metadata…', tone: 'dim' }]);
    const picked = results?.[clamp(s.search.cursor, results.length)];
    if (picked && picked.length > 33) out.push([{ t: 'selected: ', tone: 'dim' }, { t: picked, bold: true }]);
    const listH = Math.max(1, height - out.length);
    const list = windowed(results ?? [], s.search.cursor, listH, (name, sel) => {
      const inList = rows.find((r) => r.name === name);
      return selectable(sel, [{ t: column(name, 34) }, { t: inList ? (inList.removed ? 'removed — ⏎ restores' : `in the list (${inList.origin})`) : '⏎ adds', tone: 'dim' }]);
    });
    return [...out, ...exactly(list, listH)].map((l) => fitLine(l, width));
  }
  out.push(L(`${'package'.padEnd(36)}from`, 'dim'));
  const listH = Math.max(1, height - out.length);
  const list = windowed(rows, s.cursor.packages, listH, (r, sel) =>
    selectable(sel, [
      { t: r.removed ? '− ' : r.origin === 'you' ? '+ ' : '  ', tone: r.removed ? 'bad' : 'good', bold: true },
      { t: column(r.name, 34), tone: r.removed ? 'dim' : undefined },
      { t: r.removed ? removalText(r) : r.origin === 'you' ? 'added by you' : r.origin, tone: r.removal?.outcome === 'refused' ? 'warn' : r.removed ? 'bad' : 'dim' },
    ]),
  );
  return [...out, ...exactly(list, listH)].map((l) => fitLine(l, width));
}

/** What the build will really do with a removal (the preview's decision), never more than it will do. */
function removalText(r: PackageRow): string {
  const d = r.removal;
  if (!d) return `${r.origin} (removal asked; checking…)`;
  if (d.outcome === 'refused') return `cannot remove: ${d.reason}`;
  if (d.outcome === 'remove-packages') return `${r.origin}: removed after installation (RemovePackages=)`;
  return `${r.origin} (removed by you)`;
}

// ─── Closure ─────────────────────────────────────────────────────────────────

const BAR_TONES: Tone[] = ['accent', 'good', 'warn', 'title', 'bad', 'dim'];

const ORIGIN_LABEL: Record<Origin, string> = { bootstrap: 'bootstrap set', mkosi: 'mkosi built-in', system: 'system drop-in', variant: 'requested', dependency: 'dependency' };

function whyText(p: ClosurePackage, origin: Origin | undefined): string {
  const why = p.why; // built on each read
  if (why.length <= 1) return ORIGIN_LABEL[origin ?? 'variant'];
  return `<- ${why[why.length - 3]} (${why[why.length - 2]})`;
}

export interface ClosureDetail {
  without: WithoutIt | null;
}

/** "3 package(s) drop out — a b c; 1 comes in — d", from the preview re-resolved without the package. */
function withoutText(w: WithoutIt): string {
  const drops = w.drops.filter((n) => n !== w.of);
  const gone = w.drops.includes(w.of) ? '' : `${w.of} stays (something else needs it); `;
  const out = drops.length ? `${drops.length} more package(s) drop out — ${drops.join(' ')}` : 'nothing else drops out';
  return `${gone}${out}${w.comes.length ? `; ${w.comes.length} come(s) in instead — ${w.comes.join(' ')}` : ''}`;
}

export function closureLines(view: ClosureView | null, requested: Set<string>, cursor: number, detail: ClosureDetail | null, loading: string | null, height: number, width: number): Line[] {
  if (!view) return exactly([L(loading ?? 'Loading package metadata…', 'dim')], height);
  if (!view.ok) return exactly(errorLines(view.error, width), height).map((l) => fitLine(l, width));
  const { closure, rows } = view;
  const out: Line[] = [];
  out.push([{ t: 'Closure: ', tone: 'title' }, { t: `${closure.count} packages · ${formatBytes(closure.installSize)} installed`, bold: true }, { t: `  (resolved in ${view.ms.toFixed(1)} ms)`, tone: 'dim' }]);
  const barW = Math.max(10, width - 2);
  const bar: Line = [];
  const legend: Line = [];
  sizeShares(rows).forEach((sh, i) => {
    const w = Math.max(1, Math.round((sh.size / Math.max(1, closure.installSize)) * barW));
    // Reverse-video spaces draw the same solid block as '█', and an ASCII line is cheaper for Ink to measure.
    bar.push({ t: ' '.repeat(w), tone: BAR_TONES[i % BAR_TONES.length], inverse: true });
    legend.push({ t: '■ ', tone: BAR_TONES[i % BAR_TONES.length] }, { t: `${sh.name} ${formatBytes(sh.size)}  `, tone: 'dim' });
  });
  out.push(bar, legend);
  out.push(L(`${'package'.padEnd(30)}${'size'.padStart(10)}  ${'version'.padEnd(23)}why`, 'dim'));
  const sel = rows[clamp(cursor, rows.length)];
  const details: Line[] = [];
  if (sel) {
    details.push(rule(width));
    const chain: Line = [{ t: `why ${sel.name}: `, tone: 'title' }];
    const why = sel.why;
    for (let i = 0; i < why.length; i++) chain.push(i % 2 ? { t: ` —${why[i]}→ `, tone: 'dim' } : { t: why[i]!, bold: true });
    details.push(...wrapLine(chain, width));
    const w = detail?.without ?? null;
    const origin = view.set.origin.get(sel.name);
    details.push(
      ...wrapLine(requested.has(sel.name)
        ? [{ t: 'without it: ', tone: 'title' }, { t: w ? withoutText(w) : 'the variant without it cannot be resolved', tone: w && w.drops.length > 1 ? 'warn' : 'dim' }]
        : origin === 'bootstrap' || origin === 'mkosi' || origin === 'system'
          ? [{ t: 'without it: ', tone: 'title' }, { t: `${ORIGIN_LABEL[origin]}: mkosi installs it whatever the profiles say; x asks the build to remove it afterwards (refused when something needs it)`, tone: 'dim' }]
          : [{ t: 'without it: ', tone: 'title' }, { t: w ? `a dependency of ${w.of} — without ${w.of}: ${w.drops.includes(sel.name) ? '' : `${sel.name} stays; `}${withoutText(w)}` : `a dependency — remove ${sel.why[0]} (or what needs it) to drop it`, tone: 'dim' }], width),
    );
  }
  const listH = Math.max(1, height - out.length - details.length);
  const list = windowed(rows, cursor, listH, (p, isSel) =>
    selectable(isSel, [
      { t: column(p.name, 28), tone: requested.has(p.name) ? 'good' : undefined },
      { t: formatBytes(p.installSize).padStart(10) + '  ', tone: 'accent' },
      { t: fit(p.evr, 22).padEnd(23), tone: 'dim' },
      { t: whyText(p, view.set.origin.get(p.name)), tone: 'dim' },
    ]),
  );
  return [...out, ...exactly(list, listH), ...details].map((l) => fitLine(l, width));
}

// ─── Build ───────────────────────────────────────────────────────────────────

export function buildLines(s: WizardState, stale: boolean, unsupported: boolean, now: number, height: number, width: number): Line[] {
  const b = s.build;
  const out: Line[] = [];
  if (unsupported) return exactly([L('This host is not supported by a package-built initrd: no build is offered.', 'bad', true)], height);
  const uki = b.format === 'uki';
  if (b.status === 'idle') {
    out.push(L(uki ? 'Build a unified kernel image (UKI): the kernel, the mkosi-initrd initrd, the command line and os-release in one EFI binary' : 'Build the initrd with mkosi-initrd', 'title', true));
    out.push(L('Nothing on the system changes: the image is built in a private mount namespace and checked against the detected storage.'));
    out.push([]);
    out.push([{ t: 'format:  ', tone: 'title' }, { t: uki ? 'UKI' : 'cpio initrd', bold: true }, { t: '  (u switches to ' + (uki ? 'a cpio initrd' : 'a UKI') + '; install then uses layout=' + (uki ? 'uki' : 'bls') + ')', tone: 'dim' }]);
    out.push([]);
    out.push([{ t: 'Press ' }, { t: 'b', tone: 'key', bold: true }, { t: ' (or ⏎) to build, ' }, { t: 'r', tone: 'key', bold: true }, { t: ' to build twice and compare the two images (reproducibility).' }]);
    return exactly(out, height).map((l) => fitLine(l, width));
  }
  if (b.status === 'running') {
    const secs = Math.max(0, Math.round((now - b.startedAt) / 1000));
    const spin = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'[Math.floor(now / 120) % 10]!;
    out.push([{ t: `${spin} `, tone: 'accent', bold: true }, { t: b.stage, bold: true }, { t: `  ${secs}s elapsed`, tone: 'dim' }, { t: '  ctrl-c cancels', tone: 'key' }]);
  } else if (b.status === 'cancelled') {
    out.push(L('Build cancelled: mkosi-initrd was stopped and its temporary files removed. Press b to build again.', 'warn', true));
  } else if (b.status === 'failed' && b.error) {
    out.push(...errorLines(b.error, width));
  } else if (b.status === 'done' && b.result) {
    const r = b.result;
    out.push([{ t: r.ok ? '✓ Built and verified' : '✗ Built, but checks FAILED', tone: r.ok ? 'good' : 'bad', bold: true }, { t: `  in ${Math.round(r.durationMs / 1000)} s`, tone: 'dim' }, ...(stale ? [{ t: '  (your choices or the format changed since: press b to rebuild)', tone: 'warn' as Tone }] : [])]);
    if (r.replay) for (const part of r.replay.split('; ')) out.push(L(`demo: ${part}`, 'warn'));
    out.push([{ t: 'image:   ', tone: 'title' }, { t: `${formatBytes(r.image.compressedSize)} compressed · ${formatBytes(r.image.unpackedSize)} unpacked · ${r.image.files} files · ${r.image.modules} modules`, bold: true }]);
    out.push([{ t: 'current: ', tone: 'title' }, { t: r.current ? `${formatBytes(r.current.size)} ${r.current.path} (new/current ${(r.image.compressedSize / r.current.size).toFixed(2)}×)` : 'no current initrd found for this kernel', tone: 'dim' }]);
    if (r.uki) {
      out.push([{ t: 'UKI:     ', tone: 'title' }, { t: r.uki.sections.map((x) => `${x.name} ${formatBytes(x.size)}`).join(' · '), bold: true }, { t: `  (${r.uki.generator})`, tone: 'dim' }]);
      out.push([{ t: 'cmdline: ', tone: 'title' }, { t: r.uki.cmdline || '(empty)' }, { t: `  from ${r.uki.cmdlineSource}`, tone: 'dim' }]);
    }
    if (r.reproducible) {
      const d = r.reproducible.differences;
      out.push(
        r.reproducible.identical
          ? [{ t: 'reproducible: ', tone: 'title' }, { t: '✓ two builds are byte-identical', tone: 'good', bold: true }, { t: `  (second build ${Math.round(r.reproducible.extraMs / 1000)} s)`, tone: 'dim' }]
          : [{ t: 'reproducible: ', tone: 'title' }, { t: `✗ ${d.length} member(s) differ between two builds`, tone: 'bad', bold: true }],
      );
      for (const x of d.slice(0, 8)) out.push([{ t: `  ${x.member}`, tone: 'accent' }, { t: ` ${x.fields.join(',')}: ${x.cause}`, tone: 'dim' }]);
      if (d.length > 8) out.push(L(`  … and ${d.length - 8} more (build --check-reproducible --json lists them all)`, 'dim'));
    }
    out.push(L('checks:', 'title'));
    for (const c of r.checks) out.push([{ t: c.ok ? '  ✓ ' : '  ✗ ', tone: c.ok ? 'good' : 'bad', bold: true }, { t: c.id.padEnd(18) }, { t: c.detail, tone: 'dim' }]);
  }
  const logH = height - out.length - 1;
  if (logH > 0 && b.log.length) {
    out.push(L(`log (last ${Math.min(logH, b.log.length)} of ${b.log.length} lines)`, 'dim'));
    for (const l of b.log.slice(-logH)) out.push(L(`  ${l}`, 'dim'));
  }
  return exactly(out, height).map((l) => fitLine(l, width));
}

// ─── Review ──────────────────────────────────────────────────────────────────

export function reviewLines(s: WizardState, height: number, width: number): Line[] {
  const r = s.review;
  if (r.status === 'loading' || r.status === 'idle') return exactly([L('Planning the changes…', 'dim')], height);
  if (r.status === 'error') return exactly(errorLines(r.error, width), height).map((l) => fitLine(l, width));
  const { plan, diff, root } = r.value;
  const head: Line[] = [
    [{ t: 'Review: ', tone: 'title' }, { t: plan.changes.length ? `${plan.changes.length} file(s) change under ${root}` : `nothing to change under ${root}`, bold: true }],
    ...plan.changes.map((c): Line => [{ t: `  ${c.kind === 'symlink' ? '↪' : '✎'} ${c.path}`, tone: 'accent' }, { t: `  ${c.why}`, tone: 'dim' }]),
    ...plan.notes.map((n) => L(`  note: ${n}`, 'dim')),
  ];
  const lines = diff.split('\n');
  const diffH = Math.max(1, height - head.length - 2);
  const start = Math.min(clamp(s.cursor.review, lines.length), Math.max(0, lines.length - diffH));
  const body = lines.slice(start, start + diffH).map((l): Line => L(l, l.startsWith('+') && !l.startsWith('+++') ? 'good' : l.startsWith('-') && !l.startsWith('---') ? 'bad' : l.startsWith('@@') ? 'accent' : 'dim'));
  const foot: Line = plan.changes.length ? [{ t: 'Apply? ', tone: 'title', bold: true }, { t: 'y', tone: 'key', bold: true }, { t: ' apply (journalled, revertible) · ' }, { t: 'esc', tone: 'key', bold: true }, { t: ' back' }] : L('Already installed.', 'good');
  return [...head, ...exactly(body, diffH), [], foot].slice(0, height).map((l) => fitLine(l, width));
}

export function reviewLineCount(s: WizardState): number {
  return s.review.status === 'ready' ? s.review.value.diff.split('\n').length : 0;
}

// ─── Install ─────────────────────────────────────────────────────────────────

export function installLines(s: WizardState, regenerateNote: string | null, height: number, width: number): Line[] {
  const i = s.install;
  const out: Line[] = [];
  if (i.status === 'applying') out.push(L('Applying (journal first, then each file atomically)…', 'accent', true));
  else if (i.status === 'failed' && i.error) out.push(...errorLines(i.error, width));
  else if (i.status === 'done' && i.result) {
    const r = i.result;
    out.push(L(r.changed.length ? `✓ Installed: ${r.changed.length} file(s) changed under ${r.root}` : `✓ Nothing needed changing under ${r.root}`, 'good', true));
    for (const c of r.changed) out.push(L(`  ${c}`));
    for (const n of r.notes) out.push(L(`  note: ${n}`, 'dim'));
    out.push([]);
    out.push(L(`The next kernel-install builds the initrd with mkosi-initrd. ${r.fallback}`));
    out.push([{ t: 'Undo everything: ', tone: 'title' }, { t: r.revertCommand, tone: 'key', bold: true }]);
    out.push([]);
    if (i.regenerate === 'idle') out.push(regenerateNote ? L(`Regenerate now: not offered — ${regenerateNote}.`, 'dim') : [{ t: 'r', tone: 'key', bold: true }, { t: ' regenerate the initrd for the running kernel now (the previous one is kept with its own boot entry)' }]);
    else if (i.regenerate === 'running') out.push(L('Regenerating with kernel-install…', 'accent'));
    else out.push(...i.regenerateLines.map((l) => L(l, i.regenerate === 'failed' ? 'bad' : 'good')));
    out.push([]);
    out.push(L('Press q to quit.', 'dim'));
  } else out.push(L('Nothing applied yet: confirm on the Review screen.', 'dim'));
  return exactly(out, height).map((l) => fitLine(l, width));
}

// ─── Whole frame ─────────────────────────────────────────────────────────────

export function overlayLines(s: WizardState): Line[] | null {
  if (s.overlay === 'help') return helpLines();
  if (s.overlay === 'quit') return quitLines(s);
  if (s.overlay === 'discard') return discardLines(s);
  return null;
}

export { hasUnapplied };
