/**
 * Many hosts at once, for administrators deciding for a fleet: each snapshot
 * analysed as `detect` and `suggest` would, and the supported hosts grouped by
 * identical variant, which is the set of initrds the fleet needs. A snapshot
 * that cannot be read is one host's answer, never the end of the run.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { BugError, describeUnknown, WizardError } from '../errors.js';
import { canStartWorker, startWorker } from '../workers.js';
import { analyzeSnapshot } from '../host/analyze.js';
import { isArchiveOutput, loadSnapshotSync } from '../host/snapshot.js';
import type { Feature, UnsupportedFinding } from '../host/report.js';
import type { Profile } from '../variant/profiles.js';
import { suggest } from '../variant/suggest.js';
import { resolveDistro } from './host.js';

export interface FleetVariant {
  /** The same id for every host whose initrd would be the same: distribution, packages and modules. */
  id: string;
  /** The distribution and its release, as the packages are resolved for it ("debian 12"). */
  distro: string;
  profiles: string[];
  packages: string[];
  modules: string[];
}

export interface FleetHost {
  name: string;
  path: string;
  /** Supported: nothing unsupported and nothing missing from the snapshot. */
  supported: boolean;
  features: Feature[];
  unsupported: Array<Pick<UnsupportedFinding, 'id' | 'device' | 'reason' | 'advice'>>;
  /** Facts the snapshot lacks ("cannot tell"): each as what could not be followed and why. */
  incomplete: string[];
  /** The variant's id (see variants), or null when the host has none (unsupported, cannot tell, unreadable). */
  variant: string | null;
  /** Why the snapshot could not be read at all, or null. */
  error: string | null;
}

/** Where a host stands: every face words it its own way, from this one classification. */
export type FleetVerdict = 'unreadable' | 'unsupported' | 'cannot-tell' | 'supported';

export function fleetVerdict(h: FleetHost): FleetVerdict {
  return h.error ? 'unreadable' : h.unsupported.length ? 'unsupported' : h.incomplete.length ? 'cannot-tell' : 'supported';
}

/** A readable host in one line: what is unsupported and where, what could not be told, or its features. */
export function fleetWhy(h: FleetHost): string {
  return h.unsupported.length ? h.unsupported.map((u) => `${u.id} on ${u.device}`).join(', ') : h.incomplete.length ? h.incomplete[0]! : h.features.join(', ') || '-';
}

/** A host to answer for: where its snapshot is, or why it cannot be read at all. */
export interface FleetEntry {
  name: string;
  path: string;
  error?: string;
}

/** A host's name from its snapshot's path: the directory's name, or the archive's without ".tar". */
const hostName = (p: string) => path.basename(p, '.tar');

/**
 * Where the snapshots are: each path a snapshot directory, a snapshot archive
 * (FILE.tar), or a directory of them (one level down).
 */
export async function fleetEntries(paths: string[]): Promise<FleetEntry[]> {
  const out: FleetEntry[] = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    const st = await stat(abs).catch((err: NodeJS.ErrnoException) => err);
    if (st instanceof Error) {
      out.push({ name: hostName(abs), path: abs, error: st.code === 'ENOENT' ? 'no such file or directory' : describeUnknown(st) });
      continue;
    }
    if (st.isFile()) {
      out.push({ name: hostName(abs), path: abs });
      continue;
    }
    if (!st.isDirectory()) {
      out.push({ name: hostName(abs), path: abs, error: 'neither a snapshot directory nor a snapshot archive' });
      continue;
    }
    if ((await stat(path.join(abs, 'snapshot.json')).catch(() => null)) !== null) {
      out.push({ name: hostName(abs), path: abs });
      continue;
    }
    // A directory that cannot be listed is one answer, not the end of the run.
    const listed = await readdir(abs, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => err);
    if (listed instanceof Error) {
      out.push({ name: hostName(abs), path: abs, error: `cannot list it (${listed.code ?? describeUnknown(listed)})` });
      continue;
    }
    // Snapshots are read only from real directories and archives: a link among them is reported, not followed and not skipped in silence.
    const children = listed
      .filter((e) => e.isDirectory() || e.isSymbolicLink() || (e.isFile() && isArchiveOutput(e.name)))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (!children.length) out.push({ name: hostName(abs), path: abs, error: 'neither a snapshot (no snapshot.json) nor a directory of snapshots or snapshot archives' });
    for (const c of children) {
      out.push({ name: hostName(c.name), path: path.join(abs, c.name), ...(c.isSymbolicLink() ? { error: 'a symbolic link, not a snapshot: copy the snapshot in, or name it directly' } : {}) });
    }
  }
  return out;
}

function variantId(distro: string, packages: readonly string[], modules: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify([distro, [...packages].sort(), [...modules].sort()])).digest('hex').slice(0, 12);
}

/** One host's answer: never throws for what the snapshot holds. */
export function fleetHost(entry: FleetEntry, profiles: Map<string, Profile>): FleetAnswer {
  const base: FleetHost = { name: entry.name, path: entry.path, supported: false, features: [], unsupported: [], incomplete: [], variant: null, error: entry.error ?? null };
  if (entry.error) return { host: base, variant: null };
  try {
    const report = analyzeSnapshot(loadSnapshotSync(entry.path));
    const host: FleetHost = {
      ...base,
      features: report.features,
      unsupported: report.unsupported.map(({ id, device, reason, advice }) => ({ id, device, reason, advice })),
      incomplete: report.incomplete.map((f) => `${f.what}: ${f.reason}`),
    };
    host.supported = fleetVerdict(host) === 'supported';
    if (!host.supported) return { host, variant: null };
    const distro = resolveDistro(report);
    const v = suggest(report, profiles, { distro });
    // The release is part of the identity: bookworm's and trixie's lvm2 are not the same initrd.
    const release = `${distro.id}${distro.version ? ` ${distro.version}` : distro.codename ? ` ${distro.codename}` : ''}`;
    const variant: FleetVariant = { id: variantId(release, v.packages, v.kernelModules), distro: release, profiles: v.profiles, packages: v.packages, modules: v.kernelModules };
    host.variant = variant.id;
    return { host, variant };
  } catch (err) {
    return { host: { ...base, error: err instanceof WizardError ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : describeUnknown(err) }, variant: null };
  }
}

export interface FleetAnswer {
  host: FleetHost;
  variant: FleetVariant | null;
}

export interface FleetSummary {
  hosts: number;
  supported: number;
  unsupported: number;
  cannotTell: number;
  unreadable: number;
  variants: number;
}

export interface FleetReport {
  hosts: FleetHost[];
  variants: Array<FleetVariant & { hosts: string[] }>;
  summary: FleetSummary;
}

/**
 * The variants and the counts, kept while hosts go by: what it holds grows
 * with the number of distinct variants and the hosts' names, never with the
 * hosts' reports, so a fleet can be streamed through it.
 */
export class FleetTally {
  private readonly groups = new Map<string, FleetVariant & { hosts: string[] }>();
  private readonly counts = { hosts: 0, supported: 0, unsupported: 0, cannotTell: 0, unreadable: 0 };

  add({ host, variant }: FleetAnswer): void {
    const c = this.counts;
    c.hosts++;
    const verdict = fleetVerdict(host);
    if (verdict === 'supported') c.supported++;
    else if (verdict === 'unreadable') c.unreadable++;
    else if (verdict === 'unsupported') c.unsupported++;
    else c.cannotTell++;
    if (!variant) return;
    const group = this.groups.get(variant.id) ?? { ...variant, hosts: [] };
    group.hosts.push(host.name);
    this.groups.set(variant.id, group);
  }

  /** Most hosts first. */
  variants(): Array<FleetVariant & { hosts: string[] }> {
    return [...this.groups.values()].sort((a, b) => b.hosts.length - a.hosts.length || a.id.localeCompare(b.id));
  }

  summary(): FleetSummary {
    return { ...this.counts, variants: this.groups.size };
  }
}

/** Hosts sent to a worker at once: large enough that messages cost nothing beside the work, small enough to keep memory flat. */
const BATCH = 250;
/** Below this, starting threads costs more than it saves. */
const INLINE_BELOW = 2 * BATCH;

/**
 * Every host's answer, in the order of `entries`, a batch at a time. Large
 * fleets are spread over worker threads (one a core, up to four); each reads
 * and analyses its snapshots and the answers come back in order, with at most
 * two batches a worker in flight, so memory stays flat however many hosts.
 */
export async function* fleetAnswers(entries: FleetEntry[], profiles: Map<string, Profile>, o: { threads?: number } = {}): AsyncGenerator<FleetAnswer[]> {
  const threads = Math.min(o.threads ?? Math.min(availableParallelism(), 4), Math.ceil(entries.length / BATCH));
  if (threads < 2 || entries.length < INLINE_BELOW || !canStartWorker('fleet-worker')) {
    for (let i = 0; i < entries.length; i += BATCH) yield entries.slice(i, i + BATCH).map((e) => fleetHost(e, profiles));
    return;
  }
  const pool = Array.from({ length: threads }, () => new FleetWorker(profiles));
  try {
    const inflight: Array<Promise<FleetAnswer[]>> = [];
    let next = 0;
    const send = () => {
      inflight.push(pool[(next / BATCH) % threads]!.run(entries.slice(next, next + BATCH)));
      next += BATCH;
    };
    while (next < entries.length && inflight.length < threads * 2) send();
    while (inflight.length) {
      const answers = await inflight.shift()!;
      if (next < entries.length) send();
      yield answers;
    }
  } finally {
    await Promise.all(pool.map((w) => w.stop()));
  }
}

/** One worker thread answering batches in the order they were sent. */
class FleetWorker {
  private readonly worker: Worker;
  private readonly waiting: Array<{ resolve: (a: FleetAnswer[]) => void; reject: (e: Error) => void }> = [];

  constructor(profiles: Map<string, Profile>) {
    const worker = startWorker('fleet-worker', { profiles });
    if (!worker) throw new BugError('the fleet worker script went missing after it was found');
    this.worker = worker;
    this.worker.on('message', (answers: FleetAnswer[]) => this.waiting.shift()?.resolve(answers));
    const fail = (err: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(new BugError(`a fleet worker thread stopped: ${err.message}`));
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exit ${code}`)));
  }

  run(batch: FleetEntry[]): Promise<FleetAnswer[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(batch);
    });
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** Every host in `paths`, and the variants that cover the supported ones (most hosts first), held whole: for the wizard and tests. */
export async function analyzeFleet(paths: string[], profiles: Map<string, Profile>, o: { threads?: number } = {}): Promise<FleetReport> {
  const entries = await fleetEntries(paths);
  const hosts: FleetHost[] = [];
  const tally = new FleetTally();
  for await (const batch of fleetAnswers(entries, profiles, o)) {
    for (const answer of batch) {
      hosts.push(answer.host);
      tally.add(answer);
    }
  }
  return { hosts, variants: tally.variants(), summary: tally.summary() };
}
