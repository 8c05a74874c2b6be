/**
 * `build --check-reproducible`: the variant built twice with the same flags
 * from the same package metadata, and the two images compared member by
 * member. The comparison build goes to a temporary directory first; the kept
 * build then goes where `build` would put it, so the command still produces
 * the image and the build record (which install reads) names that file.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { byCause, compareImages, sha256, type Difference } from '../image/compare.js';
import type { CommandResult } from './context.js';
import { buildCommand, type BuildFlags } from './build.js';

/** Members printed per cause in the text output; --json lists every one. */
const SHOWN_PER_CAUSE = 25;
/** mkosi builds under /var/tmp too: the comparison image sits next to its workspace, not in a small tmpfs /tmp. */
const TMP_BASE = '/var/tmp';

interface BuildJson {
  output: string;
  durationMs: number;
  ok: boolean;
}

/**
 * The kept build's own report (every field `build --json` prints, so a reader
 * of build's JSON reads this too), plus the comparison.
 */
export interface ReproducibleJson extends Record<string, unknown> {
  identical: boolean;
  comparedAs: 'cpio' | 'uki';
  builds: Array<{ output: string; sha256: string; durationMs: number; kept: boolean }>;
  differences: Difference[];
  /** Wall time the check added: the comparison build and the comparison. */
  extraBuildMs: number;
}

export function formatDifferences(differences: Difference[]): string[] {
  const out: string[] = [];
  for (const group of byCause(differences)) {
    out.push(`  ${group.members.length} member${group.members.length === 1 ? '' : 's'}: ${group.cause}`);
    for (const d of group.members.slice(0, SHOWN_PER_CAUSE)) out.push(`    ${d.member} (${d.fields.join(', ')})${d.detail ? `: ${d.detail}` : ''}`);
    if (group.members.length > SHOWN_PER_CAUSE) out.push(`    … and ${group.members.length - SHOWN_PER_CAUSE} more (--json lists every one)`);
  }
  return out;
}

export async function reproducibleCommand(flags: BuildFlags): Promise<CommandResult> {
  const tmp = await mkdtemp(path.join(TMP_BASE, 'initrd-wizard-repro-'));
  try {
    const extraStarted = performance.now();
    const compareOutput = path.join(tmp, flags.output ? path.basename(flags.output) : flags.format === 'uki' ? 'image.efi' : 'image.cpio.zst');
    const stage = (n: number) => (s: string, ms: number) => flags.onStage?.(`build ${n} of 2: ${s}`, ms);
    const second = await buildCommand({ ...flags, output: compareOutput, log: path.join(tmp, 'build.log'), onStage: stage(1) });
    let extraMs = performance.now() - extraStarted;
    const first = await buildCommand({ ...flags, onStage: stage(2) });
    const kept = first.json as BuildJson;
    const other = second.json as BuildJson;
    const compareStarted = performance.now();
    const [a, b] = await Promise.all([readFile(kept.output), readFile(other.output)]);
    const comparison = await compareImages(a, b);
    extraMs += performance.now() - compareStarted;
    const json: ReproducibleJson = {
      ...(first.json as Record<string, unknown>),
      identical: comparison.identical,
      comparedAs: comparison.kind,
      builds: [
        { output: kept.output, sha256: sha256(a), durationMs: kept.durationMs, kept: true },
        { output: other.output, sha256: sha256(b), durationMs: other.durationMs, kept: false },
      ],
      differences: comparison.differences,
      extraBuildMs: Math.round(extraMs),
    };
    const checksFailed = !kept.ok || !other.ok;
    const verdict = comparison.identical
      ? [`Reproducible: two builds are byte-identical (sha256 ${json.builds[0]!.sha256}); the check added ${(extraMs / 1000).toFixed(0)} s.`]
      : [
          `NOT reproducible: the two builds differ in ${comparison.differences.length} member${comparison.differences.length === 1 ? '' : 's'} (sha256 ${json.builds[0]!.sha256.slice(0, 16)}… vs ${json.builds[1]!.sha256.slice(0, 16)}…); the check added ${(extraMs / 1000).toFixed(0)} s.`,
          ...formatDifferences(comparison.differences),
        ];
    return {
      json,
      text: [first.text, '', ...verdict, ...(checksFailed ? ['The image checks failed in at least one build (see above).'] : [])].join('\n'),
      exitCode: comparison.identical && !checksFailed ? 0 : 1,
      diagnostics: [...(first.diagnostics ?? [])],
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
