/** Plain-text rendering shared by the headless commands. */
import { cannotTellLines } from '../host/verdict.js';
import type { HostReport } from '../host/report.js';
import { treeRows } from '../text/tree.js';
import type { Variant } from '../variant/suggest.js';

function indent(lines: string[], by = '  '): string[] {
  return lines.map((l) => by + l);
}

export function formatReport(report: HostReport): string {
  const out: string[] = [];
  const h = report.host;
  out.push(`Host: ${h.prettyName}${h.kernel ? `, kernel ${h.kernel}` : ''}`);
  out.push('');
  out.push('What the initrd must bring up:');
  for (const m of report.mounts) {
    const what = m.role === 'resume' ? 'resume swap' : m.target;
    out.push(`  ${what.padEnd(12)} ${(m.fstype || '?').padEnd(6)}${m.stack ? '' : ` ${m.source}`}${m.subvolume ? `  (subvolume ${m.subvolume})` : ''}`.trimEnd());
    if (m.stack) for (const row of treeRows(m.stack, (n) => n.children)) out.push(`    ${row.prefix}${row.node.name}  ${row.node.type}${row.node.repeat ? '  (as above)' : ''}`);
  }
  out.push('');
  if (report.features.length) {
    out.push(`Features: ${report.features.join(', ')}`);
    for (const f of report.features) for (const r of report.featureReasons[f] ?? []) out.push(`  ${f.padEnd(10)} ${r}`);
  } else {
    out.push('Features: none detected');
  }
  out.push('');
  if (report.unsupported.length) out.push(...unsupportedLines(report));
  // Missing facts are never "Supported": the verdict is that there is none yet.
  if (report.incomplete.length) {
    if (report.unsupported.length) out.push('');
    out.push(...cannotTellLines(report.incomplete));
  } else if (!report.unsupported.length) {
    out.push('Supported: mkosi-initrd can build an initrd for this host.');
  }
  if (report.warnings.length) {
    out.push('');
    out.push('Warnings:');
    out.push(...indent(report.warnings.map((w) => `- ${w}`)));
  }
  return out.join('\n');
}

export function formatVariant(v: Variant): string {
  const out: string[] = [];
  out.push(`Variant for ${v.distro}${v.distroVersion ? ` ${v.distroVersion}` : ''} (${v.family} family)`);
  out.push('');
  out.push('Profiles:');
  for (const p of v.profiles) out.push(`  ${p.padEnd(10)} ${v.profileReasons[p] ?? ''}`);
  out.push('');
  out.push(`Packages (${v.packages.length}): ${v.packages.join(' ')}`);
  out.push(`Kernel modules (${v.kernelModules.length}): ${v.kernelModules.join(' ') || '-'}`);
  out.push(`Host files (${v.hostFiles.length}): ${v.hostFiles.join(' ') || '-'}`);
  if (v.notes.length) {
    out.push('');
    out.push('Notes:');
    out.push(...indent(v.notes.map((n) => `- ${n}`)));
  }
  return out.join('\n');
}

/** The unsupported verdict as text: each finding with its reason and what to do instead. */
export function unsupportedLines(report: Pick<HostReport, 'unsupported'>): string[] {
  return ['NOT SUPPORTED by a package-built initrd:', ...report.unsupported.flatMap((u) => [`  [${u.id}] ${u.reason}`, `    → ${u.advice}`])];
}
