/** Distribution identity → the package-name family that profiles are written for. */

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
}

/** ID first, then each ID_LIKE entry (rhel/centos → fedora, ubuntu → debian). */
export function familyOf(id: string, idLike: string[] = []): Family | null {
  for (const candidate of [id, ...idLike]) {
    const f = FAMILY_OF[candidate.toLowerCase()];
    if (f) return f;
  }
  return null;
}

export const KNOWN_DISTRO_IDS = Object.keys(FAMILY_OF);
