/**
 * `export`: the variant's mkosi-initrd configuration as a directory that
 * builds anywhere (--format mkosi), or an RPM spec with that directory as its
 * source (--format rpm-spec). The drop-in is the one `build` renders
 * (hostConfig), in its export form; the trees it would name by host path are
 * read here and carried in the directory.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, InputError, WizardError } from '../errors.js';
import { incompleteError } from '../host/verdict.js';
import { EXTRA_TREE_DIR, SOURCE_DATE_EPOCH, type ExtraTree } from '../mkosi/render.js';
import { dropInPackages } from '../mkosi/model.js';
import { mkosiTooOld, mkosiUsable } from '../mkosi/version.js';
import { rpmArch } from '../packages/arch.js';
import { packageRoot } from '../paths.js';
import type { HostFs } from '../system/files.js';
import { writeTar } from '../host/tar.js';
import { TOOL_ID } from '../version.js';
import { exportFiles, generatedTreeFiles, imagePath, type ExportFile, type ModuleSource, type TreeFile } from '../export/layout.js';
import { renderExportReadme } from '../export/readme.js';
import { checkKernelVersion, renderSpec, specNames, usesWrapper } from '../export/rpmspec.js';
import { prebuiltInitrdPath } from '../export/prebuilt.js';
import { checkExportOutput, writeExportDirectory } from '../export/write.js';
import { mkosiInfo, pipeline, type PipelineFlags } from './pipeline.js';
import { hostConfig } from './variant-config.js';

export type ExportFormat = 'mkosi' | 'rpm-spec';

export interface ExportFlags extends PipelineFlags {
  format: ExportFormat;
  output: string;
  generic?: boolean;
  slim?: boolean;
}

/** What `export --json` prints (docs/cli-contract.md). */
export interface ExportDocument {
  format: ExportFormat;
  output: string;
  /** The files written, relative to output. */
  files: string[];
  mkosiVersion: string;
  distro: string;
  profiles: string[];
  packages: string[];
  modules: ModuleSource;
  notes: string[];
  warnings: string[];
  /** rpm-spec: the kernel, the spec, the package and where it puts the initrd. */
  kernelVersion?: string;
  spec?: string;
  package?: string;
  initrd?: string;
}

/** Files under a tree in the build's root, at most this many (mkosi's own profile trees hold one or two). */
const MAX_TREE_FILES = 1000;

/** A tree's files as the build would copy them: a single file, or a directory walked (links followed inside the root). */
async function readTree(fs: HostFs, tree: ExtraTree): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
  const text = async (hostPath: string, size: number): Promise<string> => {
    const content = await fs.read(hostPath);
    if (content === null) throw new WizardError(`${hostPath} disappeared while the export read it`, { hint: 'run the export again' });
    // Read as text: a file whose bytes are not UTF-8 would not survive it.
    if (Buffer.byteLength(content, 'utf8') !== size) throw new InputError(`${hostPath} is not a text file: the export carries only configuration files`, 'check which profile names it');
    return content;
  };
  const walk = async (hostPath: string, inside: string): Promise<void> => {
    const st = await fs.stat(hostPath);
    if (!st) throw new WizardError(`${hostPath} is missing: it was there when the drop-in was rendered`, { hint: 'run the export again' });
    if (st.isFile()) {
      if (out.length >= MAX_TREE_FILES) throw new InputError(`${tree.source} holds more than ${MAX_TREE_FILES} files: not a configuration tree`, 'check which profile names it');
      out.push({ target: imagePath(tree, inside), content: await text(hostPath, st.size) });
    } else if (st.isDirectory()) {
      for (const name of ((await fs.list(hostPath)) ?? []).sort()) await walk(`${hostPath}/${name}`, inside ? `${inside}/${name}` : name);
    } else throw new InputError(`${hostPath} is neither a file nor a directory: the export cannot carry it`, 'check which profile names it');
  };
  await walk(tree.source, '');
  return out;
}

/** The /proc/modules text the spec's build reads through the wrapper instead of the builder's (empty: no loaded modules). */
async function modulesList(source: ModuleSource, snapshotFiles: Map<string, string> | null, fs: HostFs): Promise<string> {
  if (source === 'generic' || source === 'snapshot-without-modules') return '';
  if (source === 'snapshot') return snapshotFiles?.get('modules') ?? '';
  const live = await fs.read('/proc/modules').catch(() => null);
  if (live === null) {
    throw new InputError(
      'this machine has no /proc/modules (its kernel loads no modules), so the spec cannot keep "the modules loaded here": mkosi-initrd selects modules by them',
      'pass --snapshot of the machine the initrd is for, or --generic for any hardware',
    );
  }
  return live;
}

export async function exportVariant(flags: ExportFlags): Promise<ExportDocument> {
  if (flags.format === 'rpm-spec') {
    if (flags.kernelVersion === undefined) {
      throw new InputError('--format rpm-spec needs --kernel-version: the spec builds the initrd of one kernel and installs it beside that kernel\'s modules', 'pass --kernel-version as `uname -r` prints it on the machine the package is for');
    }
    checkKernelVersion(flags.kernelVersion);
  }
  // Said now, before package metadata is read: the output is checked again when it is written.
  await checkExportOutput(path.resolve(flags.output));
  const state = await pipeline(flags);
  // An export is for building and deploying elsewhere: never of an initrd that cannot bring the host up.
  const { unsupported, incomplete } = state.report;
  if (unsupported.length) {
    throw new WizardError(`this host uses storage a package-built initrd cannot bring up (${unsupported.map((u) => `${u.id} on ${u.device}`).join(', ')}): nothing exported`, { exit: ExitCode.unsupported, hint: unsupported[0]!.advice });
  }
  if (incomplete.length) {
    const e = incompleteError(incomplete);
    throw new InputError(`${e.message}: nothing exported`, e.hint);
  }
  const mk = await mkosiInfo(state);
  if (!mkosiUsable(mk)) throw mkosiTooOld(mk?.version ?? null, state.distro.id, state.distro.version);
  const { config, model, warnings } = await hostConfig(state, mk, { slim: flags.slim, purpose: 'export' });
  const trees: TreeFile[][] = [];
  for (const tree of config.trees) trees.push(tree.source === EXTRA_TREE_DIR ? generatedTreeFiles(config, tree) : await readTree(state.fs, tree));
  const modules: ModuleSource = flags.generic ? 'generic' : state.snapshotFiles ? (state.snapshotFiles.get('modules') ? 'snapshot' : 'snapshot-without-modules') : 'live';
  const distro = `${state.distro.id}${state.distro.version ? ` ${state.distro.version}` : ''}`;
  const packages = dropInPackages(state.variant, model);
  const carried = [...new Set(trees.flat().map((f) => f.target))].sort();
  // Host files (not the generated crypttab, not mkosi's own profile trees) are read on this machine, snapshot or not, as build carries them.
  const builtin = model.builtinDir ? `${model.builtinDir}/` : null;
  const fromHere = [...new Set(config.trees.flatMap((t, i) => (t.source === EXTRA_TREE_DIR || (builtin && t.source.startsWith(builtin)) ? [] : trees[i]!.map((f) => f.target))))].sort();
  const readme = renderExportReadme({ toolId: TOOL_ID, mkosiVersion: mk.version, mkosiMajor: mk.major, distro, profiles: state.variant.profiles, packages, modules, snapshot: flags.snapshot ? path.resolve(flags.snapshot) : null, carried, fromExporter: fromHere, notes: config.notes });
  const directory = exportFiles(config, trees, readme);
  const doc: ExportDocument = { format: flags.format, output: path.resolve(flags.output), files: [], mkosiVersion: mk.version, distro, profiles: state.variant.profiles, packages, modules, notes: config.notes, warnings };
  let files: ExportFile[] = directory;
  if (flags.format === 'rpm-spec') {
    const kver = flags.kernelVersion!;
    const names = specNames(kver);
    const spec = renderSpec({ toolId: TOOL_ID, kernelVersion: kver, rpmArch: rpmArch(state.arch), mkosiVersion: mk.version, mkosiMajor: mk.major, distro, profiles: state.variant.profiles, modules });
    files = [[names.spec, spec], [names.tarball, writeTar(names.top, directory, SOURCE_DATE_EPOCH)]];
    if (usesWrapper(modules, mk.major)) {
      files.push([names.modulesList, await modulesList(modules, state.snapshotFiles, state.fs)]);
      files.push([names.wrapper, await readFile(path.join(packageRoot(), 'libexec', 'target-modules', 'mkosi'))]);
    }
    Object.assign(doc, { kernelVersion: kver, spec: names.spec, package: names.name, initrd: prebuiltInitrdPath(kver) });
  }
  await writeExportDirectory(flags.output, files);
  doc.files = files.map(([rel]) => rel);
  return doc;
}
