/**
 * The one place a variant becomes the drop-in for this host's mkosi: build,
 * install and the wizard all call it, so the configuration that was built and
 * checked is byte for byte the one install writes (the record key).
 */
import { loadMkosiModel, previewInstall, type LoadedModel } from '../mkosi/model.js';
import type { InstallSet } from '../mkosi/installset.js';
import { KEYMAP_FILES, renderVariant, type RenderedConfig } from '../mkosi/render.js';
import type { MkosiInfo } from '../mkosi/version.js';
import { loadPool } from '../packages/metadata.js';
import { withFileLists } from '../packages/resolve.js';
import { describeUnknown, WizardError } from '../errors.js';
import { hostMetadataSpec } from './metadata.js';
import { hostCrypttab, type PipelineState } from './pipeline.js';
import type { Variant } from '../variant/suggest.js';
import { isFile, type HostFs } from '../system/files.js';

export interface HostConfig {
  config: RenderedConfig;
  model: LoadedModel;
  /** The preview of exactly this configuration; null when the package metadata cannot be read (warnings say why). */
  set: InstallSet | null;
  warnings: string[];
}

/** The preview for this build host's package manager; null (with the reason kept) when the metadata cannot be read. */
export async function previewFor(state: Pick<PipelineState, 'distro' | 'runner' | 'arch'>, model: LoadedModel, variant: Variant): Promise<{ set: InstallSet | null; warnings: string[] }> {
  try {
    const { pool, warnings } = await loadPool(await hostMetadataSpec(state.distro.family, state.runner), { runner: state.runner, arch: state.arch });
    const set = await withFileLists(pool, () => previewInstall(pool, model, variant));
    return { set, warnings: [...warnings, ...model.warnings] };
  } catch (err) {
    // A name that does not resolve fails the build too: say so now, before a minute of mkosi.
    if (err instanceof WizardError) throw err;
    return { set: null, warnings: [`the package preview failed, so removals cannot be checked and the build cannot be compared with it: ${describeUnknown(err)}`] };
  }
}

/**
 * The keymap files a drop-in may carry (mkosi < 26 copies none). A link
 * (Debian: vconsole.conf → default/keyboard) would be copied over the image's
 * own dangling link and stop the build ("not writing through dangling
 * symlink"): only real files are carried.
 */
export async function carriedKeymapFiles(fs: Pick<HostFs, 'readlink'>, exists: (p: string) => Promise<boolean>): Promise<string[]> {
  const out: string[] = [];
  for (const f of KEYMAP_FILES) if ((await exists(f)) && (await fs.readlink(f)) === null) out.push(f);
  return out;
}

/**
 * The drop-in for this host. Which host files it carries is decided here and
 * only here (a regular file, links followed inside the root), so build,
 * install and the wizard cannot disagree about the configuration's identity.
 */
export async function hostConfig(state: PipelineState, mk: Pick<MkosiInfo, 'version' | 'major'>, opts: { slim?: boolean; variant?: Variant; purpose?: 'install' | 'export' } = {}): Promise<HostConfig> {
  const variant = opts.variant ?? state.variant;
  const exists = (p: string) => isFile(state.fs, p);
  const existing = new Set<string>();
  for (const f of variant.hostFiles) if (await exists(f)) existing.add(f);
  for (const f of await carriedKeymapFiles(state.fs, exists)) existing.add(f);
  const model = await loadMkosiModel(state.fs, mk, state.distro, undefined, state.arch);
  const preview = await previewFor(state, model, variant);
  const config = renderVariant(variant, state.report, {
    slim: opts.slim,
    purpose: opts.purpose,
    mkosiMajor: mk.major,
    existing,
    crypttab: await hostCrypttab(state),
    model,
    removePackages: preview.set?.removePackages ?? [],
    refused: preview.set?.removals.filter((r) => r.outcome === 'refused').map((r) => r.name) ?? [],
  });
  return { config, model, set: preview.set, warnings: preview.warnings };
}
