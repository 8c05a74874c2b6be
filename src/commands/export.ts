/** `export`: flags in, the service's export, text or JSON out. */
import path from 'node:path';
import type { CommandResult } from './result.js';
import { exportVariant, type ExportDocument, type ExportFlags } from '../service/export.js';
import { EXPORT_DROP_IN_DIR } from '../export/layout.js';
import { formatArgv } from '../system/run.js';

/** Which modules the spec's build keeps; the configuration directory keeps whatever is loaded where it is built. */
const SPEC_MODULES: Record<ExportDocument['modules'], string> = {
  live: 'keeps the modules loaded on this machine now',
  snapshot: "keeps the snapshot's loaded modules",
  'snapshot-without-modules': 'the snapshot lists no loaded modules: keeps only the default and storage ones',
  generic: 'generic: keeps only the default and storage modules',
};

export async function exportCommand(flags: ExportFlags): Promise<CommandResult> {
  return exportResult(await exportVariant(flags));
}

/** The text a person reads for an export, from the same facts the JSON holds. */
export function exportResult(doc: ExportDocument): CommandResult {
  const modules = doc.format === 'rpm-spec' ? SPEC_MODULES[doc.modules] : 'modules: those loaded where it is built, see README.md';
  const what = `profiles ${doc.profiles.join(', ')}; ${doc.distro} package names; mkosi ${doc.mkosiVersion}; ${modules}`;
  const listing = doc.files.map((f) => `  ${f}`);
  const text =
    doc.format === 'mkosi'
      ? [
          `Exported the mkosi-initrd configuration (${what}) to ${doc.output}:`,
          ...listing,
          '',
          `To build with it, copy ${EXPORT_DROP_IN_DIR} into /etc/mkosi-initrd/mkosi.conf.d/ (mkosi-initrd has no option that adds a directory); ${path.join(doc.output, 'README.md')} says how, and what else reads it.`,
        ]
      : [
          `Wrote the spec of ${doc.package} (${what}) and its sources to ${doc.output}:`,
          ...listing,
          '',
          `Build it as root, where mkosi ${doc.mkosiVersion.split('.')[0]} and the modules of ${doc.kernelVersion} are installed:`,
          `  ${formatArgv(['rpmbuild', '--define', `_sourcedir ${doc.output}`, '-bb', path.join(doc.output, doc.spec!)])}`,
          `The package installs ${doc.initrd}; installing it passes that file to kernel-install add (the spec's comments say why).`,
        ];
  return {
    json: doc,
    text: [...text, ...doc.notes.map((n) => `Note: ${n}`)].join('\n'),
    exitCode: 0,
    ...(doc.warnings.length ? { diagnostics: doc.warnings.map((w) => `warning: ${w}`) } : {}),
  };
}
