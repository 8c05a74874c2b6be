/**
 * Records a real mkosi-initrd build of the demo snapshot's variant on this
 * machine (root, mkosi ≥ 24, a Debian kernel in /usr/lib/modules) into
 * demo/build-record.json: stage times, the log, the image summary and every
 * verification check. The demo's Build screen replays this record, labelled as
 * a replay, because a real build needs root, mkosi and the target distribution.
 * Run: node --import tsx scripts/record-demo-build.ts [KVER]
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildCommand } from '../src/commands/build.js';
import { mkosiInfo, pipeline } from '../src/service/pipeline.js';
import { DEMO_SNAPSHOT, fixtureSnapshot, packageRoot } from '../src/paths.js';

const kver = process.argv[2] ?? readdirSync('/usr/lib/modules').find((k) => existsSync(`/usr/lib/modules/${k}/vmlinuz`));
if (!kver) throw new Error('no kernel with /usr/lib/modules/KVER/vmlinuz: run test/mkosi/setup-host.sh');
const snapshot = fixtureSnapshot(DEMO_SNAPSHOT);
const work = await mkdtemp(path.join(os.tmpdir(), 'iw-demo-build-'));
const started = performance.now();
const stages: Array<{ stage: string; atMs: number }> = [];
const lines: Array<{ atMs: number; text: string }> = [];
try {
  const state = await pipeline({ snapshot, kernelVersion: kver });
  const mk = await mkosiInfo(state);
  const r = await buildCommand({
    snapshot,
    kernelVersion: kver,
    output: path.join(work, 'initrd.cpio.zst'),
    onStage: (stage) => stages.push({ stage, atMs: Math.round(performance.now() - started) }),
    onLine: (text) => lines.push({ atMs: Math.round(performance.now() - started), text }),
  });
  const j = r.json as Record<string, unknown>;
  const record = {
    recordedAt: new Date().toISOString().slice(0, 10),
    snapshot: DEMO_SNAPSHOT,
    mkosiVersion: mk?.version ?? null,
    kernelVersion: kver,
    profiles: j.profiles,
    durationMs: j.durationMs,
    stages,
    lines,
    image: j.image,
    // The initrd this machine boots now (Debian's initramfs-tools for the same kernel), for the size comparison.
    current: j.current,
    checks: j.checks,
    ok: j.ok,
    // What the build installed next to what the preview showed (preview = build).
    packages: j.packages,
  };
  await writeFile(path.join(packageRoot(), 'demo', 'build-record.json'), JSON.stringify(record, null, 1) + '\n');
  console.log(`recorded ${stages.length} stages, ${lines.length} lines, ok=${String(j.ok)}, ${Math.round(Number(j.durationMs) / 1000)} s`);
} finally {
  await rm(work, { recursive: true, force: true });
}
