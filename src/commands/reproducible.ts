/** `build --check-reproducible`: the service's two builds and their comparison, as text or JSON. */
import { byCause, type Difference } from '../image/compare.js';
import type { CommandResult } from './result.js';
import { buildResult } from './build.js';
import type { BuildFlags } from '../service/build.js';
import { buildTwice } from '../service/reproducible.js';

/** Members printed per cause in the text output; --json lists every one. */
const SHOWN_PER_CAUSE = 25;

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
  const { kept, other, doc } = await buildTwice(flags);
  const extraS = (doc.extraBuildMs / 1000).toFixed(0);
  const checksFailed = !kept.doc.ok || !other.doc.ok;
  const verdict = doc.identical
    ? [`Reproducible: two builds are byte-identical (sha256 ${doc.builds[0]!.sha256}); the check added ${extraS} s.`]
    : [
        `NOT reproducible: the two builds differ in ${doc.differences.length} member${doc.differences.length === 1 ? '' : 's'} (sha256 ${doc.builds[0]!.sha256.slice(0, 16)}… vs ${doc.builds[1]!.sha256.slice(0, 16)}…); the check added ${extraS} s.`,
        ...formatDifferences(doc.differences),
      ];
  return {
    json: doc,
    text: [buildResult(kept).text, '', ...verdict, ...(checksFailed ? ['The image checks failed in at least one build (see above).'] : [])].join('\n'),
    exitCode: doc.identical && !checksFailed ? 0 : 1,
  };
}
