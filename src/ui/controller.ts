/**
 * The wizard's brain, without React: state, the services it calls, the derived
 * views (memoised) and what each key does. Keys are handled synchronously
 * against the current state, so a burst of keys from a fast typist or tmux
 * lands exactly as if typed slowly. The Ink App only subscribes and renders.
 */
import type { Pool } from '../packages/pool.js';
import type { Variant } from '../variant/suggest.js';
import {
  addPackage,
  deriveClosure,
  deriveVariant,
  withoutIt,
  type WithoutIt,
  NameSearch,
  packageRows,
  profileRows,
  toggleProfile,
  togglePackage,
  removePackage,
  variantKey,
  type ClosureView,
  type PackageRow,
  type ProfileRow,
} from './derive.js';
import type { KeyName } from './keys.js';
import { commandFor, type CommandId, type KeyContext } from './keymap.js';
import { NO_CHOICES, sameChoices, toUiError, type Choices, type HostData, type UiError, type WizardServices } from './services.js';
import { SCREENS, hasUnapplied, initialState, reducer, type Action, type ScreenId, type WizardState } from './state.js';
import {
  buildLines,
  closureLines,
  errorLines,
  fitLine,
  footerLines,
  headerLines,
  hostLines,
  installLines,
  overlayLines,
  packageLines,
  reviewLineCount,
  reviewLines,
  variantLines,
  type Line,
} from './view.js';
import { clamp, moveCursor } from './window.js';
import { reportHint } from '../paths.js';

export interface Outcome {
  code: number;
  summary: string;
}

const HEADER = 3;
const FOOTER = 3;

export class WizardController {
  state: WizardState = initialState();
  cols = 100;
  rows = 30;
  private version = 0;
  private readonly listeners = new Set<() => void>();
  private abort: AbortController | null = null;
  private lineBuffer: string[] = [];
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  private pending = new Set<Promise<unknown>>();
  private building: Promise<unknown> | null = null;
  private outcome: Outcome | null = null;
  private hostLinesCache: { report: unknown; width: number; lines: Line[] } | null = null;
  private memo = {
    variant: { key: null as Choices | null, value: { variant: null as Variant | null, error: null as UiError | null } },
    detected: null as Variant | null,
    closure: { key: '', pool: null as Pool | null, value: null as ClosureView | null },
    drops: { key: '', value: null as WithoutIt | null },
    search: { query: '', value: null as string[] | null, ms: null as number | null },
    searcher: null as NameSearch | null,
  };
  /** Called once when the wizard ends (quit, Ctrl-C, terminate). */
  onExit: ((o: Outcome) => void) | null = null;

  constructor(readonly services: WizardServices, private readonly now: () => number = () => Date.now()) {}

  // ── store ──
  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  };
  getVersion = () => this.version;
  dispatch(a: Action): void {
    const next = reducer(this.state, a);
    if (next === this.state) return;
    this.state = next;
    this.version++;
    for (const l of this.listeners) l();
  }
  /** Re-render without a state change (the build's elapsed clock). */
  tick(): void {
    this.version++;
    for (const l of this.listeners) l();
  }
  setSize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = Math.max(40, cols);
    this.rows = Math.max(12, rows);
    this.tick();
  }
  /** Promises still running (tests await them; exit waits for a cancelled build to clean up). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
  /** The running build, if any: exit waits for a cancelled build to clean up, and for nothing else. */
  async buildSettled(): Promise<void> {
    await this.building?.catch(() => undefined);
  }
  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  // ── derived ──
  host(): HostData | null {
    return this.state.host.status === 'ready' ? this.state.host.value : null;
  }
  pool(): Pool | null {
    return this.state.pool.status === 'ready' ? this.state.pool.value : null;
  }
  variant(): { variant: Variant | null; error: UiError | null } {
    const host = this.host();
    if (!host) return { variant: null, error: null };
    if (this.memo.variant.key !== this.state.choices) this.memo.variant = { key: this.state.choices, value: deriveVariant(host, this.state.choices) };
    return this.memo.variant.value;
  }
  detected(): Variant | null {
    const host = this.host();
    if (!host) return null;
    return (this.memo.detected ??= deriveVariant(host, NO_CHOICES).variant);
  }
  profileRows(): ProfileRow[] {
    const host = this.host();
    return host ? profileRows(host, this.variant().variant, this.detected()) : [];
  }
  packageRows(): PackageRow[] {
    const host = this.host();
    if (!host) return [];
    const c = this.closure();
    return packageRows(host, this.variant().variant, this.state.choices, c?.ok ? c.set.removals : []);
  }
  closure(): ClosureView | null {
    const pool = this.pool();
    const v = this.variant().variant;
    if (!pool || !v) return null;
    const key = JSON.stringify([v.packages, v.profiles, v.tweaks.remove]);
    if (this.memo.closure.key !== key || this.memo.closure.pool !== pool) this.memo.closure = { key, pool, value: deriveClosure(pool, this.host()?.mkosi ?? null, v) };
    return this.memo.closure.value;
  }
  /** "Without it" for the selected row: a requested package, or for a dependency the requested package its chain starts at. */
  drops(): WithoutIt | null {
    const view = this.closure();
    const pool = this.pool();
    const host = this.host();
    const v = this.variant().variant;
    if (!view?.ok || !pool || !host || !v) return null;
    const sel = view.rows[clamp(this.state.cursor.closure, view.rows.length)];
    const of = sel && (v.packages.includes(sel.name) ? sel.name : v.packages.includes(sel.why[0]!) ? sel.why[0]! : null);
    if (!of) return null;
    const key = `${this.memo.closure.key}|${of}`;
    if (this.memo.drops.key !== key) this.memo.drops = { key, value: withoutIt(host, this.state.choices, pool, view.closure, of) };
    return this.memo.drops.value;
  }
  searcher(): NameSearch | null {
    const pool = this.pool();
    if (!pool) return null;
    return (this.memo.searcher ??= new NameSearch(pool.names()));
  }
  searchResults(): string[] | null {
    const q = this.state.search.query;
    const s = this.searcher();
    if (!s || !q.trim()) return null;
    if (this.memo.search.query !== q || this.memo.search.value === null) {
      const t = performance.now();
      this.memo.search = { query: q, value: s.search(q), ms: null };
      this.memo.search.ms = performance.now() - t;
    }
    return this.memo.search.value;
  }

  bodyHeight(): number {
    return Math.max(3, this.rows - 1 - HEADER - FOOTER);
  }

  // ── lifecycle ──
  start(): void {
    this.track(
      (async () => {
        try {
          const host = await this.services.loadHost();
          const saved = this.services.prefs.load(host.prefsKey);
          this.dispatch({ type: 'host', load: { status: 'ready', value: host }, restored: saved && !sameChoices(saved.choices, NO_CHOICES) ? saved : null });
          if (host.report.unsupported.length) return;
          this.dispatch({ type: 'pool', load: { status: 'loading' } });
          try {
            const pool = await this.services.loadPackages(host);
            this.dispatch({ type: 'pool', load: { status: 'ready', value: pool } });
          } catch (err) {
            this.dispatch({ type: 'pool', load: { status: 'error', error: toUiError('The package metadata could not be read', err) } });
          }
        } catch (err) {
          this.dispatch({ type: 'host', load: { status: 'error', error: toUiError('The host could not be read', err) } });
        }
      })(),
    );
  }

  private finish(code: number): void {
    if (this.outcome) return;
    this.abort?.abort();
    const i = this.state.install;
    const done = i.status === 'done' && i.result ? i.result : null;
    const changed = done ? (done.changed.length ? `Installed into ${done.root}: ${done.changed.join(', ')}.` : `Nothing needed changing under ${done.root}.`) : '';
    // The demo's root is gone once it ends (dispose): there is nothing left to undo.
    const summary = !done
      ? 'Nothing was installed; the boot configuration is unchanged.'
      : this.services.dispose
        ? changed
        : `${changed} Undo with: ${done.revertCommand}`;
    this.outcome = { code, summary: this.services.exitNote ? `${summary}\n${this.services.exitNote}` : summary };
    this.dispatch({ type: 'quit' });
    this.onExit?.(this.outcome);
  }
  /** How the wizard ended, once it has. */
  get result(): Outcome | null {
    return this.outcome;
  }

  /** A bug in the UI itself: end cleanly with the message, never a stack trace on the screen. */
  crash(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.outcome) return;
    this.abort?.abort();
    this.outcome = { code: 1, summary: `initrd-wizard: internal error: ${message}\ninitrd-wizard: ${reportHint()} (nothing was changed unless the Install screen said so)` };
    this.dispatch({ type: 'quit' });
    this.onExit?.(this.outcome);
  }

  /** SIGTERM and friends: cancel what runs and end. */
  terminate(code = 143): void {
    this.finish(code);
  }

  // ── actions ──
  private setChoices(choices: Choices, notice?: string): void {
    // While the saved choices are offered, a change must not quietly overwrite them: they are saved once the offer is answered.
    const offered = this.state.restored !== null;
    this.dispatch({ type: 'choices', choices, notice: offered && notice ? `${notice} Not saved: your earlier choices are still offered (r restores, x discards).` : notice });
    const host = this.host();
    if (host && !offered) this.services.prefs.save(host.prefsKey, choices);
  }

  /** Answers the saved-choices offer: restore them, or keep what is on screen (saved from now on). */
  private answerSaved(restore: boolean): void {
    const host = this.host();
    this.dispatch({ type: 'restore', accept: restore });
    if (host) this.services.prefs.save(host.prefsKey, this.state.choices);
    this.dispatch({ type: 'notice', text: restore ? 'Restored your saved choices.' : 'Discarded the saved choices; what is on screen is saved from now on.' });
  }

  private go(screen: ScreenId): void {
    this.dispatch({ type: 'go', screen });
    if (screen === 'review' && this.state.review.status !== 'ready' && this.state.review.status !== 'loading') this.loadReview();
  }

  private forward(): void {
    const s = this.state;
    const host = this.host();
    const next = SCREENS[SCREENS.indexOf(s.screen) + 1];
    if (!next || !host) return;
    if (host.report.unsupported.length) {
      this.dispatch({ type: 'notice', text: 'This host is not supported by a package-built initrd: installing is not offered. Press s to save a snapshot for a bug report.' });
      return;
    }
    if (s.screen === 'variant' && this.variant().error) return void this.dispatch({ type: 'error', error: this.variant().error });
    if (s.screen === 'closure') {
      const c = this.closure();
      if (c && !c.ok) return void this.dispatch({ type: 'notice', text: 'The package list does not resolve: fix it on the Packages screen first.' });
    }
    if (s.screen === 'build') {
      const b = s.build;
      if (b.status === 'running') return void this.dispatch({ type: 'notice', text: 'The build is still running (ctrl-c cancels it).' });
      if (b.status === 'failed') return void this.dispatch({ type: 'notice', text: 'The build failed (see above): nothing to review. Fix what it says, then b builds again.' });
      if (b.status !== 'done') return void this.dispatch({ type: 'notice', text: `Nothing built yet${b.status === 'cancelled' ? ' (the build was cancelled)' : ''}: b builds the variant, then → reviews the install.` });
      if (!b.result?.ok) return void this.dispatch({ type: 'notice', text: 'The image failed its checks: it is not installed. Change the variant and build again.' });
      if (this.isStale()) return void this.dispatch({ type: 'notice', text: 'Your choices or the image format changed since this build: press b to build the current variant.' });
    }
    if (s.screen === 'review') return void this.dispatch({ type: 'notice', text: 'Press y to apply the changes shown, or esc to go back.' });
    this.go(next);
  }

  private back(): void {
    const prev = SCREENS[SCREENS.indexOf(this.state.screen) - 1];
    if (prev) this.go(prev);
  }

  isStale(): boolean {
    const v = this.variant().variant;
    return Boolean(v && this.state.build.variantKey && this.state.build.variantKey !== this.buildKey(v));
  }

  /** A build belongs to a variant and a format: changing either makes it stale. */
  private buildKey(v: Variant): string {
    return `${variantKey(v)}|${this.state.build.format}`;
  }

  /** Switches the next build between an initrd and a UKI; a UKI only where this host can build one. */
  toggleFormat(): void {
    const host = this.host();
    if (!host || this.state.build.status === 'running') return;
    if (this.state.build.format === 'uki') return void this.dispatch({ type: 'format', format: 'cpio' });
    this.track(
      this.services.ukiUnavailable(host).then(
        (why) => (why ? this.dispatch({ type: 'notice', text: `No UKI here: ${why}` }) : this.dispatch({ type: 'format', format: 'uki' })),
        (err) => this.dispatch({ type: 'error', error: toUiError('Cannot tell whether a UKI can be built', err) }),
      ),
    );
  }

  startBuild(reproducible = false): void {
    const host = this.host();
    const v = this.variant().variant;
    if (!host || !v || this.state.build.status === 'running') return;
    if (host.report.unsupported.length) return;
    if (reproducible && this.services.reproducibleUnavailable) return void this.dispatch({ type: 'notice', text: `No reproducibility check here: ${this.services.reproducibleUnavailable}` });
    const ac = new AbortController();
    this.abort = ac;
    this.lineBuffer = [];
    this.dispatch({ type: 'build-start', variantKey: this.buildKey(v), at: this.now(), reproducible });
    // Lines arrive by the hundred: flushed to state at 10 frames a second.
    const flush = () => {
      if (this.lineBuffer.length) {
        const lines = this.lineBuffer;
        this.lineBuffer = [];
        this.dispatch({ type: 'build-lines', lines });
      } else if (this.state.build.status === 'running') this.tick();
    };
    this.flushTimer = setInterval(flush, 100);
    this.building = this.track(
      this.services
        .build(v, host, { stage: (stage) => this.dispatch({ type: 'build-stage', stage }), line: (l) => this.lineBuffer.push(l) }, ac.signal, { format: this.state.build.format, reproducible })
        .then(
          (result) => {
            flush();
            this.dispatch({ type: 'build-end', result });
          },
          (err) => {
            flush();
            if (ac.signal.aborted) this.dispatch({ type: 'build-end', cancelled: true });
            else this.dispatch({ type: 'build-end', error: toUiError('The build failed', err) });
          },
        )
        .finally(() => {
          if (this.flushTimer) clearInterval(this.flushTimer);
          this.flushTimer = null;
          if (this.abort === ac) this.abort = null;
        }),
    );
  }

  cancelBuild(): void {
    if (this.state.build.status === 'running') this.abort?.abort();
  }

  private loadReview(): void {
    const host = this.host();
    const v = this.variant().variant;
    if (!host || !v) return;
    this.dispatch({ type: 'review', load: { status: 'loading' } });
    this.track(
      this.services.plan(v, host, this.state.build.format).then(
        (value) => this.dispatch({ type: 'review', load: { status: 'ready', value } }),
        (err) => this.dispatch({ type: 'review', load: { status: 'error', error: toUiError('The install could not be planned', err) } }),
      ),
    );
  }

  private applyInstall(): void {
    const host = this.host();
    const v = this.variant().variant;
    const r = this.state.review;
    if (!host || !v || r.status !== 'ready' || this.state.install.status === 'applying') return;
    if (!r.value.plan.changes.length) return void this.dispatch({ type: 'notice', text: 'Nothing to apply: this configuration is already installed.' });
    this.dispatch({ type: 'install', status: 'applying' });
    this.go('install');
    this.track(
      this.services.apply(r.value, v, host, this.state.build.format).then(
        (result) => {
          this.dispatch({ type: 'install', status: 'done', result });
          this.dispatch({ type: 'review', load: { status: 'idle' } });
        },
        (err) => this.dispatch({ type: 'install', status: 'failed', error: toUiError('The install was not applied', err) }),
      ),
    );
  }

  private regenerate(): void {
    const host = this.host();
    const regen = this.services.regenerate;
    const installed = this.state.install.result;
    if (!host || !regen || !installed || this.state.install.status !== 'done' || this.state.install.regenerate === 'running') return;
    this.dispatch({ type: 'regenerate', status: 'running' });
    this.track(
      regen(host, installed).then(
        (lines) => this.dispatch({ type: 'regenerate', status: 'done', lines }),
        (err) => {
          const e = toUiError('Regenerating failed', err);
          this.dispatch({ type: 'regenerate', status: 'failed', lines: [`✗ ${e.message}`, ...(e.hint ? [`next step: ${e.hint}`] : [])] });
        },
      ),
    );
  }

  private saveSnapshot(): void {
    this.dispatch({ type: 'notice', text: 'Saving a snapshot…' });
    this.track(
      this.services.saveSnapshot().then(
        (dir) => this.dispatch({ type: 'notice', text: `Snapshot saved to ${dir} — attach it to a bug report.` }),
        (err) => this.dispatch({ type: 'error', error: toUiError('The snapshot could not be saved', err) }),
      ),
    );
  }

  // ── keys ──
  key(k: KeyName): void {
    try {
      this.handleKey(k);
    } catch (err) {
      this.dispatch({ type: 'error', error: toUiError('That did not work', err) });
    }
  }

  /** What the key map needs to know about now. */
  keyContext(): KeyContext {
    const s = this.state;
    const i = s.install;
    return {
      screen: s.screen,
      unsupported: (this.host()?.report.unsupported.length ?? 0) > 0,
      savedOffered: s.restored !== null,
      build: s.build.status,
      review: s.review.status === 'ready' ? (s.review.value.plan.changes.length ? 'changes' : 'empty') : 'none',
      canRegenerate: this.services.regenerate !== null && i.status === 'done' && (i.regenerate === 'idle' || i.regenerate === 'failed'),
    };
  }

  private handleKey(k: KeyName): void {
    const s = this.state;
    if (s.quitting) return;
    if (k === 'ctrl-c') {
      if (s.build.status === 'running') return this.cancelBuild();
      return this.finish(130);
    }
    if (s.overlay === 'help') return void this.dispatch({ type: 'overlay', overlay: 'none' });
    if (s.overlay === 'quit' || s.overlay === 'discard') {
      const yes = k === 'char:y' || (s.overlay === 'quit' && k === 'char:q');
      if (yes && s.overlay === 'quit') return this.finish(0);
      if (yes) this.answerSaved(false);
      if (yes || k === 'char:n' || k === 'esc') this.dispatch({ type: 'overlay', overlay: 'none' });
      return;
    }
    if (s.screen === 'packages' && s.search.open) return this.searchKey(k);
    if (s.error && k === 'esc') return void this.dispatch({ type: 'error', error: null });
    if (s.notice && k === 'esc') this.dispatch({ type: 'notice', text: null });
    const id = commandFor(k, this.keyContext());
    if (id) this.run(id);
  }

  private run(id: CommandId): void {
    const s = this.state;
    switch (id) {
      case 'up': case 'down': case 'pageup': case 'pagedown': case 'home': case 'end':
        return this.moveIn(s.screen, id);
      case 'next':
        return this.forward();
      case 'back':
        if (s.screen === 'build' && s.build.status === 'running') return void this.dispatch({ type: 'notice', text: 'The build is running: ctrl-c cancels it first.' });
        return this.back();
      case 'help':
        return void this.dispatch({ type: 'overlay', overlay: 'help' });
      case 'quit':
        return hasUnapplied(s) ? void this.dispatch({ type: 'overlay', overlay: 'quit' }) : this.finish(0);
      case 'save-snapshot':
        return this.saveSnapshot();
      case 'toggle-profile':
        return this.toggleProfileAt();
      case 'search':
        return void this.dispatch({ type: 'search', open: true, query: '' });
      case 'restore-saved':
        return this.answerSaved(true);
      case 'discard-saved':
        return void this.dispatch({ type: 'overlay', overlay: 'discard' });
      case 'toggle-package': {
        const rows = this.packageRows();
        const row = rows[clamp(s.cursor.packages, rows.length)];
        if (row) this.setChoices(togglePackage(s.choices, row), `${row.origin === 'you' ? 'Dropped your addition' : row.removed ? 'Restored' : 'Removed'} ${row.name}.`);
        return;
      }
      case 'toggle-removal':
        return this.toggleRemovalAt();
      case 'build':
        return this.startBuild();
      case 'cancel-build':
        return this.cancelBuild();
      case 'format':
        return this.toggleFormat();
      case 'reproducible':
        return this.startBuild(true);
      case 'apply':
        return this.applyInstall();
      case 'regenerate':
        return this.regenerate();
    }
  }

  private toggleProfileAt(): void {
    const s = this.state;
    const row = this.profileRows()[clamp(s.cursor.variant, this.profileRows().length)];
    if (!row) return;
    if (row.name === 'base') return void this.dispatch({ type: 'notice', text: 'base is what every initrd needs: it cannot be turned off.' });
    const host = this.host()!;
    const needs = row.selected ? (this.variant().variant?.profiles ?? []).filter((p) => host.profiles.get(p)?.requires.includes(row.name)) : [];
    if (needs.length) return void this.dispatch({ type: 'notice', text: `${needs.join(', ')} ${needs.length > 1 ? 'need' : 'needs'} ${row.name}: turn ${needs.length > 1 ? 'them' : 'it'} off first.` });
    this.setChoices(toggleProfile(s.choices, row), `${row.selected ? 'Dropped' : 'Added'} profile ${row.name}.`);
  }

  /** Closure: any package may be asked to go (the preview says whether the build can remove it); asked again, the request is taken back. */
  private toggleRemovalAt(): void {
    const s = this.state;
    const c = this.closure();
    if (!c?.ok || !this.variant().variant) return;
    const sel = c.rows[clamp(s.cursor.closure, c.rows.length)];
    if (!sel) return;
    if (s.choices.remove.includes(sel.name)) return this.setChoices(addPackage(s.choices, sel.name), `Took back the removal of ${sel.name}: re-resolved.`);
    this.setChoices(removePackage(s.choices, sel.name), `Asked to remove ${sel.name}: re-resolved (the Packages screen shows whether the build can).`);
  }

  private listCount(screen: ScreenId): number {
    switch (screen) {
      case 'host': {
        const host = this.host();
        return host ? this.hostLines(host).length : 0;
      }
      case 'variant':
        return this.profileRows().length;
      case 'packages':
        return this.packageRows().length;
      case 'closure': {
        const c = this.closure();
        return c?.ok ? c.rows.length : 0;
      }
      case 'review':
        return reviewLineCount(this.state);
      default:
        return 0;
    }
  }

  private moveIn(screen: ScreenId, m: 'up' | 'down' | 'pageup' | 'pagedown' | 'home' | 'end'): void {
    const count = this.listCount(screen);
    const page = this.bodyHeight() - 4;
    let cur = this.state.cursor[screen];
    // Host and Review scroll text: the cursor is the first visible line.
    if (screen === 'host' || screen === 'review') {
      const max = Math.max(0, count - (this.bodyHeight() - (screen === 'review' ? 6 : 0)));
      cur = moveCursor(cur, m, max + 1, page);
    } else cur = moveCursor(cur, m, count, page);
    this.dispatch({ type: 'cursor', screen, value: cur });
  }

  private searchKey(k: KeyName): void {
    const s = this.state.search;
    if (k === 'esc') return void this.dispatch({ type: 'search', open: false });
    if (k === 'backspace') return void this.dispatch({ type: 'search', query: s.query.slice(0, -1) });
    if (k === 'ctrl-u') return void this.dispatch({ type: 'search', query: '' });
    const results = this.searchResults() ?? [];
    if (k === 'enter') {
      const name = results[clamp(s.cursor, results.length)];
      if (!name) return;
      const row = this.packageRows().find((r) => r.name === name);
      // Already requested: nothing to add, and nothing to count as yours.
      if (row && !row.removed) this.dispatch({ type: 'notice', text: `${name} is already in the list (${row.origin === 'you' ? 'added by you' : row.origin}).` });
      else this.setChoices(addPackage(this.state.choices, name), `${row ? 'Restored' : 'Added'} ${name}.`);
      this.dispatch({ type: 'search', open: false, query: '' });
      const idx = this.packageRows().findIndex((r) => r.name === name);
      if (idx >= 0) this.dispatch({ type: 'cursor', screen: 'packages', value: idx });
      return;
    }
    if (k === 'ctrl-d') k = 'pagedown';
    if (k === 'up' || k === 'down' || k === 'pageup' || k === 'pagedown' || k === 'home' || k === 'end') {
      return void this.dispatch({ type: 'search', cursor: moveCursor(s.cursor, k, results.length, this.bodyHeight() - 3) });
    }
    if (k.startsWith('char:')) {
      const ch = k.slice(5);
      if (/^[A-Za-z0-9._+-]$/.test(ch)) this.dispatch({ type: 'search', query: s.query + ch });
    }
  }

  // ── frame ──
  private hostLines(host: HostData): Line[] {
    if (this.hostLinesCache?.report !== host.report || this.hostLinesCache.width !== this.cols) this.hostLinesCache = { report: host.report, width: this.cols, lines: hostLines(host.report, this.cols) };
    return this.hostLinesCache.lines;
  }

  /** The whole screen: exactly rows − 1 lines, so Ink never clears and redraws. */
  frame(): Line[] {
    const s = this.state;
    const width = this.cols;
    const height = this.bodyHeight();
    const host = this.host();
    const f = { state: s, width, height, mode: this.services.mode, host, keys: this.keyContext() };
    let body: Line[];
    const overlay = overlayLines(s);
    if (overlay) body = overlay;
    else if (s.host.status === 'error') body = errorLines(s.host.error, width);
    else if (!host) body = [[{ t: 'Reading the host…', tone: 'dim' }]];
    else body = this.screenBody(host, height);
    if (s.error && !overlay) body = [...errorLines(s.error, width), [], ...body];
    const out = [...headerLines(f), ...body.slice(0, height), ...Array.from({ length: Math.max(0, height - body.length) }, (): Line => []), ...footerLines(f)];
    return out.map((l) => fitLine(l, width));
  }

  private screenBody(host: HostData, height: number): Line[] {
    const s = this.state;
    const width = this.cols;
    switch (s.screen) {
      case 'host': {
        const lines = this.hostLines(host);
        const start = Math.min(s.cursor.host, Math.max(0, lines.length - height));
        const shown = lines.slice(start, start + height);
        const below = lines.length - (start + height);
        // Said on the last line, so nothing is under the fold without the user knowing.
        if (below > 0) shown[height - 1] = [{ t: `↓ ${below + 1} more line${below ? 's' : ''} below: ↓, PgDn or ctrl-d scrolls`, tone: 'accent' }];
        return shown;
      }
      case 'variant':
        return variantLines(this.profileRows(), this.variant().variant, s.cursor.variant, height, width);
      case 'packages': {
        const results = s.search.open ? this.searchResults() : null;
        return packageLines(s, this.packageRows(), results, this.pool() !== null, s.search.open && results ? this.memo.search.ms : null, height, width);
      }
      case 'closure': {
        const v = this.variant().variant;
        const loading = s.pool.status === 'error' ? null : 'Loading package metadata… (the first time reads the whole repository; later runs use a cache)';
        if (s.pool.status === 'error') return errorLines(s.pool.error, width);
        return closureLines(this.closure(), new Set(v?.packages ?? []), s.cursor.closure, { without: this.drops() }, loading, height, width);
      }
      case 'build':
        return buildLines(s, this.isStale(), host.report.unsupported.length > 0, this.now(), height, width);
      case 'review':
        return reviewLines(s, height, width);
      case 'install':
        return installLines(s, this.services.regenerate ? null : (this.services.regenerateUnavailable ?? 'not available here'), height, width);
    }
  }
}
