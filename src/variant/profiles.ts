/**
 * Profiles: one .ini file per storage capability in profiles/. Values are
 * whitespace-separated lists; a key may name a family (fedora), a distribution
 * (centos) or a release (debian-12); the most specific key wins, and `all` is
 * always added.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ini from 'ini';
import { InputError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { FEATURES, type Feature } from '../host/report.js';
import type { Distro } from './distro.js';

export interface Profile {
  name: string;
  summary: string;
  /** Features that select it; "always" for base. */
  features: Array<Feature | 'always'>;
  requires: string[];
  packages: Record<string, string[]>;
  modules: Record<string, string[]>;
  files: Record<string, string[]>;
  notes: string[];
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
export const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const MODULE_NAME = /^[A-Za-z0-9_-]+$/;
const HOST_FILE = /^\/[A-Za-z0-9._/+-]+$/;

export function defaultProfilesDir(): string {
  return path.join(packageRoot(), 'profiles');
}

function list(value: unknown): string[] {
  return typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : [];
}

function section(file: string, raw: unknown, pattern: RegExp, what: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (raw === undefined) return out;
  if (typeof raw !== 'object' || raw === null) throw new InputError(`${file}: [${what}] must be a section`);
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const items = list(value);
    for (const item of items) {
      if (!pattern.test(item)) throw new InputError(`${file}: [${what}] ${key}: "${item}" is not a valid name`, 'fix the profile file');
    }
    out[key] = items;
  }
  return out;
}

export function parseProfile(name: string, text: string, file = `${name}.ini`): Profile {
  if (!NAME.test(name)) throw new InputError(`${file}: profile name "${name}" must be lower-case letters, digits and dashes`);
  const data = ini.parse(text) as Record<string, unknown>;
  const features = list(data.features);
  for (const f of features) {
    if (f !== 'always' && !(FEATURES as readonly string[]).includes(f)) {
      throw new InputError(`${file}: unknown feature "${f}" (known: always, ${FEATURES.join(', ')})`, 'fix the profile file');
    }
  }
  const notes = data.notes && typeof data.notes === 'object' ? Object.values(data.notes as Record<string, unknown>).filter((n): n is string => typeof n === 'string') : [];
  return {
    name,
    summary: typeof data.summary === 'string' ? data.summary : name,
    features: features as Profile['features'],
    requires: list(data.requires),
    packages: section(file, data.packages, PACKAGE_NAME, 'packages'),
    modules: section(file, data.modules, MODULE_NAME, 'modules'),
    files: section(file, data.files, HOST_FILE, 'files'),
    notes,
  };
}

export async function loadProfiles(dir = defaultProfilesDir()): Promise<Map<string, Profile>> {
  const profiles = new Map<string, Profile>();
  const entries = (await readdir(dir)).filter((f) => f.endsWith('.ini')).sort();
  for (const entry of entries) {
    const name = entry.slice(0, -'.ini'.length);
    profiles.set(name, parseProfile(name, await readFile(path.join(dir, entry), 'utf8'), path.join(dir, entry)));
  }
  if (!profiles.has('base')) throw new InputError(`${dir} has no base.ini profile`, 'reinstall initrd-wizard: its profiles/ folder is incomplete');
  for (const p of profiles.values()) {
    for (const r of p.requires) if (!profiles.has(r)) throw new InputError(`${p.name}.ini requires unknown profile "${r}"`);
  }
  return profiles;
}

/** The most specific entry for this distribution, plus `all`. */
export function pick(table: Record<string, string[]>, distro: Distro): string[] {
  const specific = [`${distro.id}-${distro.version}`, ...(distro.codename ? [`${distro.id}-${distro.codename}`] : []), distro.id, distro.family].find((k) => Object.hasOwn(table, k));
  const out = [...(table.all ?? []), ...(specific ? table[specific]! : [])];
  return [...new Set(out)];
}
