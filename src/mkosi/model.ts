/**
 * The build host's mkosi as the preview needs it: version, built-in
 * configuration, bootstrap set and (>= 26) its opt-in profiles, read once
 * from the installed files. Our own drop-in is left out (the variant stands
 * in for it), so a previous install never leaks into the next preview.
 */
import type { HostFs } from '../system/files.js';
import type { Distro } from '../variant/distro.js';
import type { Variant } from '../variant/suggest.js';
import { findBuiltinDir, matchContextFor, readEffectiveContent, readProfileContent, type EffectiveContent } from './builtin.js';
import { bootstrapSpecs, planInstallSet, type InstallSet, type MkosiModel, type Origin } from './installset.js';
import { resolve } from '../packages/resolve.js';
import type { Pool } from '../packages/pool.js';
import { DROP_IN_PATH } from './render.js';
import type { MkosiInfo } from './version.js';

/** Our profiles that need one of mkosi's opt-in profiles (mkosi >= 26 moved these out of the base list). */
export const MKOSI_PROFILE_FOR: Record<string, string> = { lvm: 'lvm', 'lvm-thin': 'lvm', raid: 'raid', pkcs11: 'pkcs11', network: 'network', nfs: 'nfs' };

export interface LoadedModel extends MkosiModel {
  /** mkosi's profiles (>= 26) that our selected profiles stand for: their packages and extra trees. */
  profiles: Record<string, { packages: string[]; extraTree: string | null }>;
  warnings: string[];
}

const EMPTY: EffectiveContent = { packages: [], removePackages: [], profilesOffered: [], files: [], warnings: [] };

/** `builtinDir` (inside fs's root) replaces the search for the installed mkosi: the demo reads its recorded version's resources. */
export async function loadMkosiModel(fs: HostFs, info: Pick<MkosiInfo, 'version' | 'major'>, distro: Distro, builtinDirOverride?: string, machine?: string): Promise<LoadedModel> {
  const ctx = matchContextFor(distro, 'cpio', machine);
  const builtinDir = builtinDirOverride ?? (await findBuiltinDir(fs));
  const warnings: string[] = [];
  let content = EMPTY;
  const profiles: LoadedModel['profiles'] = {};
  if (builtinDir) {
    content = await readEffectiveContent({ fs, builtinDir, mkosiMajor: info.major, ctx, overrides: new Map([[DROP_IN_PATH, '']]) });
    warnings.push(...content.warnings);
    for (const name of new Set(Object.values(MKOSI_PROFILE_FOR))) {
      if (!content.profilesOffered.includes(name)) continue;
      const p = await readProfileContent(fs, builtinDir, name, ctx);
      profiles[name] = { packages: p.packages.map((x) => x.spec), extraTree: p.extraTree };
    }
  } else {
    warnings.push(`mkosi ${info.version}'s built-in configuration (resources/mkosi-initrd) was not found: the preview shows only this tool's packages and the bootstrap set`);
  }
  return {
    mkosiVersion: info.version,
    mkosiMajor: info.major,
    family: distro.family,
    distribution: ctx.distribution,
    release: ctx.release,
    content,
    bootstrap: bootstrapSpecs(distro.family, ctx.distribution, info.major),
    found: builtinDir !== null,
    builtinDir,
    profiles,
    warnings,
  };
}

/**
 * The packages our drop-in lists: the variant's, plus, on an mkosi whose
 * base list no longer has them, the packages of the mkosi profiles the host
 * needs (kernel-install never enables a profile).
 */
export function dropInPackages(variant: Pick<Variant, 'packages' | 'profiles' | 'tweaks'>, model: Pick<LoadedModel, 'profiles'> | null): string[] {
  const out = [...variant.packages];
  if (model) {
    for (const ours of variant.profiles) {
      const theirs = MKOSI_PROFILE_FOR[ours];
      for (const p of (theirs && model.profiles[theirs]?.packages) || []) if (!out.includes(p) && !variant.tweaks.remove.includes(p)) out.push(p);
    }
  }
  return out;
}

/**
 * The preview of a variant: what the build will install with this mkosi, or,
 * without a readable mkosi, the variant's own closure (said so in `partial`).
 */
export function previewInstall(pool: Pool, model: LoadedModel | null, variant: Pick<Variant, 'packages' | 'profiles' | 'tweaks'>): InstallSet & { partial: boolean } {
  if (model) return { ...planInstallSet(pool, model, { packages: dropInPackages(variant, model), remove: variant.tweaks.remove }), partial: !model.found };
  const closure = resolve(pool, variant.packages);
  const origin = new Map<string, Origin>(closure.packages.map((p) => [p.name, variant.packages.includes(p.name) ? 'variant' : 'dependency']));
  return {
    closure,
    origin,
    removedByMkosi: [],
    removals: variant.tweaks.remove.map((name) => ({ name, outcome: 'not-requested' as const, reason: 'not requested' })),
    unmatched: [],
    removePackages: [],
    partial: true,
  };
}
