/**
 * What a real build installed, read from its log: the package manager's own
 * lines as mkosi passes them through. apt/dpkg print "Setting up NAME (VER) ..."
 * for each package configured and "Removing NAME (VER) ..." for each removed
 * (RemovePackages= runs apt purge); dnf prints its transaction table.
 * This is the "built" side of preview = build.
 */
export interface BuiltPackages {
  installed: string[];
  removed: string[];
}

export function packagesFromLog(log: string, family: string): BuiltPackages | null {
  const installed = new Set<string>();
  const removed = new Set<string>();
  const lines = log.split('\n');
  if (family === 'debian') {
    for (const line of lines) {
      const up = /^Setting up ([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)? \(/.exec(line);
      if (up) installed.add(up[1]!);
      const rm = /^Removing ([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)? \(/.exec(line);
      if (rm) removed.add(rm[1]!);
    }
  } else {
    // dnf4 and dnf5 tables: a section header, then " name arch version repo size" rows.
    let section: 'install' | 'remove' | null = null;
    for (const line of lines) {
      if (/^(Installing|Upgrading)( dependencies| weak dependencies)?:\s*$/.test(line.trim())) section = 'install';
      else if (/^Removing( dependent packages| unused dependencies)?:\s*$/.test(line.trim())) section = 'remove';
      else if (/^(Transaction Summary|Transaction Summary:|$)/.test(line.trim())) section = null;
      else if (section) {
        const m = /^\s+([A-Za-z0-9_+.-]+)\s+(x86_64|noarch|i686|aarch64)\s/.exec(line);
        if (m) (section === 'install' ? installed : removed).add(m[1]!);
      }
    }
  }
  if (!installed.size) return null;
  return { installed: [...installed].filter((n) => !removed.has(n)).sort(), removed: [...removed].sort() };
}

export interface PreviewComparison {
  previewed: number;
  built: number;
  equal: boolean;
  onlyPreviewed: string[];
  onlyBuilt: string[];
}

export function comparePreview(previewed: string[], built: BuiltPackages): PreviewComparison {
  const p = new Set(previewed);
  const b = new Set(built.installed);
  const onlyPreviewed = [...p].filter((n) => !b.has(n)).sort();
  const onlyBuilt = [...b].filter((n) => !p.has(n)).sort();
  return { previewed: p.size, built: b.size, equal: !onlyPreviewed.length && !onlyBuilt.length, onlyPreviewed, onlyBuilt };
}
