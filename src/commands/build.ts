/** `build`: flags in, the service's build, text or JSON out. */
import type { CommandResult } from './result.js';
import { formatBytes } from '../text/bytes.js';
import { buildImage, type BuildFlags, type BuildRun, type VerifiedImage } from '../service/build.js';

export function formatVerified(v: VerifiedImage): string[] {
  const out: string[] = [];
  const i = v.image;
  if (v.uki) {
    const u = v.uki;
    out.push(`UKI ${v.path}: ${u.arch}, ${formatBytes(u.sections.reduce((n, s) => n + s.size, 0))} in ${u.sections.length} sections${u.uname ? `, kernel ${u.uname}` : ''}${u.osRelease ? `, ${u.osRelease}` : ''}`);
    out.push('Sections: ' + u.sections.map((s) => `${s.name} ${formatBytes(s.size)}`).join(', '));
    out.push(`Command line: ${u.cmdline?.trim() || '(empty)'}`);
    out.push(`Embedded initrd: ${formatBytes(i.compressedSize)} compressed (${i.segments.length} archive${i.segments.length === 1 ? '' : 's'}), ${formatBytes(i.unpackedSize)} unpacked, ${i.files} files, ${i.modules} modules`);
  } else out.push(`Image ${v.path}: ${formatBytes(i.compressedSize)} compressed, ${formatBytes(i.unpackedSize)} unpacked, ${i.files} files, ${i.modules} modules`);
  if (v.current) out.push(`Current initrd ${v.current.path}: ${formatBytes(v.current.size)} (new/current ${(i.compressedSize / v.current.size).toFixed(2)}×)`);
  if (i.largest.length) out.push('Largest directories: ' + i.largest.slice(0, 5).map((l) => `${l.path} ${formatBytes(l.size)}`).join(', '));
  out.push('');
  out.push('Checks:');
  for (const c of v.checks) out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.id.padEnd(20)} ${c.detail}`);
  return out;
}

const MODULES_TEXT = {
  generic: "Modules: generic (mkosi-initrd's default list and the storage stack's).",
  snapshot: "Modules: the snapshot's loaded modules (the target machine's), not this machine's.",
  'snapshot-without-modules': "Modules: the snapshot has no module list; only mkosi-initrd's default list and the storage stack's.",
};

/** What a UKI build adds to the preflight and takes into the build. */
export async function buildCommand(flags: BuildFlags): Promise<CommandResult> {
  return buildResult(await buildImage(flags));
}

/** The text a person reads for a build, from the same facts the JSON holds. */
export function buildResult(run: BuildRun): CommandResult {
  const { doc, verified } = run;
  const comparison = doc.packages;
  const uki = doc.uki;
  const microcode = uki?.microcode ?? null;
  const moduleSource = doc.modules;
  const { output, log, durationMs } = doc;
  const previewLine = comparison
    ? comparison.equal
      ? `Packages: the build installed the ${comparison.built} packages the preview showed.`
      : `Packages: the preview showed ${comparison.previewed}, the build installed ${comparison.built}; only previewed: ${comparison.onlyPreviewed.join(' ') || '-'}; only built: ${comparison.onlyBuilt.join(' ') || '-'}`
    : 'Packages: the preview could not be compared with the build (package metadata or the build log unreadable).';
  const ukiLines = uki
    ? [
        `UKI: mkosi-initrd's initrd wrapped by ${run.ukify} (${uki.why}).`,
        ...(microcode ? [microcode.source !== null ? `Microcode: ${microcode.vendor} from ${microcode.source}, first in .initrd.` : `Microcode: ${microcode.why}.`] : []),
        `Command line from ${uki.cmdlineFromSnapshot ? "the snapshot's " : ''}${uki.cmdlineSource}${uki.cmdlineSource === '/proc/cmdline' ? ' (without BOOT_IMAGE= and initrd=)' : ''}${uki.config ? `; options from ${uki.config}` : ''}.`,
      ]
    : [];
  return {
    json: doc,
    text: [
      `Built ${output} for ${doc.kernelVersion} with mkosi ${doc.mkosiVersion} in ${(durationMs / 1000).toFixed(0)} s (log: ${log})`,
      ...ukiLines,
      ...(run.fromSnapshot && moduleSource !== 'live' ? [MODULES_TEXT[moduleSource]] : []),
      previewLine,
      ...doc.notes.map((n) => `Note: ${n}`),
      ...formatVerified(verified),
      '',
      verified.ok ? 'All checks passed.' : `Some checks FAILED: this ${uki ? 'UKI' : 'image'} may not boot this host.`,
    ].join('\n'),
    exitCode: verified.ok ? 0 : 1,
  };
}
