/**
 * The variant built twice with the same flags from the same package metadata,
 * and the two images compared member by member. The comparison build goes to
 * a temporary directory first; the kept build then goes where `build` would
 * put it, so the image and the build record (which install reads) name that file.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { compareImages, sha256, type Difference } from '../image/compare.js';
import { buildImage, type BuildDocument, type BuildFlags, type BuildRun } from './build.js';

/** mkosi builds under /var/tmp too: the comparison image sits next to its workspace, not in a small tmpfs /tmp. */
const TMP_BASE = '/var/tmp';

/**
 * The kept build's own document (every field `build --json` prints, so a
 * reader of build's JSON reads this too), plus the comparison.
 */
export interface ReproducibleJson extends BuildDocument {
  identical: boolean;
  comparedAs: 'cpio' | 'uki';
  builds: Array<{ output: string; sha256: string; durationMs: number; kept: boolean }>;
  differences: Difference[];
  /** Wall time the check added: the comparison build and the comparison. */
  extraBuildMs: number;
}

export interface ReproducibleRun {
  kept: BuildRun;
  other: BuildRun;
  doc: ReproducibleJson;
}

export async function buildTwice(flags: BuildFlags): Promise<ReproducibleRun> {
  const tmp = await mkdtemp(path.join(TMP_BASE, 'initrd-wizard-repro-'));
  try {
    const extraStarted = performance.now();
    const compareOutput = path.join(tmp, flags.output ? path.basename(flags.output) : flags.format === 'uki' ? 'image.efi' : 'image.cpio.zst');
    const stage = (n: number) => (s: string, ms: number) => flags.onStage?.(`build ${n} of 2: ${s}`, ms);
    const other = await buildImage({ ...flags, output: compareOutput, log: path.join(tmp, 'build.log'), onStage: stage(1) });
    let extraMs = performance.now() - extraStarted;
    const kept = await buildImage({ ...flags, onStage: stage(2) });
    const compareStarted = performance.now();
    const [a, b] = await Promise.all([readFile(kept.doc.output), readFile(other.doc.output)]);
    const comparison = await compareImages(a, b);
    extraMs += performance.now() - compareStarted;
    const doc: ReproducibleJson = {
      ...kept.doc,
      identical: comparison.identical,
      comparedAs: comparison.kind,
      builds: [
        { output: kept.doc.output, sha256: sha256(a), durationMs: kept.doc.durationMs, kept: true },
        { output: other.doc.output, sha256: sha256(b), durationMs: other.doc.durationMs, kept: false },
      ],
      differences: comparison.differences,
      extraBuildMs: Math.round(extraMs),
    };
    return { kept, other, doc };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
