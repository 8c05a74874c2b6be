/** Distribution identity → the package-name family that profiles are written for. */
import { parseOsRelease } from '../host/parse/osrelease.js';

export type Family = 'fedora' | 'debian' | 'arch' | 'opensuse';

const FAMILY_OF: Record<string, Family> = {
  fedora: 'fedora', rhel: 'fedora', centos: 'fedora', almalinux: 'fedora', rocky: 'fedora', ol: 'fedora',
  debian: 'debian', ubuntu: 'debian', linuxmint: 'debian', pop: 'debian', raspbian: 'debian', kali: 'debian',
  arch: 'arch', archarm: 'arch', endeavouros: 'arch', manjaro: 'arch', cachyos: 'arch',
  opensuse: 'opensuse', 'opensuse-tumbleweed': 'opensuse', 'opensuse-leap': 'opensuse', sles: 'opensuse', suse: 'opensuse',
};

export interface Distro {
  id: string;
  version: string;
  family: Family;
  /** VERSION_CODENAME (bookworm, trixie, forky …): mkosi's Release= on apt distributions, and sid's only version. */
  codename?: string;
  idLike?: string[];
}

/** Debian's release numbers and codenames, for `--distro debian-13` (os-release gives both on a real host). */
const DEBIAN_CODENAMES: Record<string, string> = { '11': 'bullseye', '12': 'bookworm', '13': 'trixie', '14': 'forky' };

export function codenameFor(id: string, version: string): string | undefined {
  return id === 'debian' ? DEBIAN_CODENAMES[version.split('.')[0] ?? ''] : undefined;
}

/** ID first, then each ID_LIKE entry (rhel/centos → fedora, ubuntu → debian). */
export function familyOf(id: string, idLike: string[] = []): Family | null {
  for (const candidate of [id, ...idLike]) {
    const key = candidate.toLowerCase();
    // Own keys only: ID=constructor must not find Object.prototype.constructor.
    if (Object.hasOwn(FAMILY_OF, key)) return FAMILY_OF[key]!;
  }
  return null;
}

export const KNOWN_DISTRO_IDS = Object.keys(FAMILY_OF);

/**
 * The distribution an os-release text (from a root or a snapshot) describes,
 * with its values checked by parseOsRelease: an invalid ID or VERSION_ID is
 * treated as absent, never passed on. Null when the family is unknown.
 */
export function distroFromOsRelease(text: string): { distro: Distro | null; warnings: string[] } {
  const r = parseOsRelease(text);
  if (!r.ok) return { distro: null, warnings: [r.error] };
  const { id, idLike, versionId, versionCodename } = r.value;
  const family = familyOf(id ?? '', idLike);
  const codename = versionCodename ?? codenameFor(id ?? '', versionId ?? '');
  return { distro: family ? { id: id ?? '', version: versionId ?? '', family, ...(codename ? { codename } : {}), idLike } : null, warnings: r.warnings };
}
