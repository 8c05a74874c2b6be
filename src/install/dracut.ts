/**
 * Does the installed dracut kernel-install plugin step aside when another
 * initrd generator is configured? Fedora's does (it checks
 * KERNEL_INSTALL_INITRD_GENERATOR); upstream and other builds may not, and
 * then it must be masked or it overwrites mkosi-initrd's initrd.
 */
export interface DracutPlugin {
  path: string;
  yields: boolean;
  reason: string;
}

export function analyzeDracutPlugin(path: string, text: string): DracutPlugin {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const body = lines.join('\n');
  const mentions = /KERNEL_INSTALL_INITRD_GENERATOR/.test(body);
  // The yielding shape: a test of the generator variable against "dracut" that leads to an early exit 0.
  const yields =
    mentions &&
    lines.some((l, i) => /KERNEL_INSTALL_INITRD_GENERATOR/.test(l) && /dracut/.test(l) && /exit\s+0/.test([l, lines[i + 1] ?? '', lines[i + 2] ?? ''].join('\n')));
  return {
    path,
    yields,
    reason: yields
      ? 'it exits when KERNEL_INSTALL_INITRD_GENERATOR is not dracut, so it can stay enabled'
      : mentions
        ? 'it reads KERNEL_INSTALL_INITRD_GENERATOR but does not clearly step aside: it will be masked'
        : 'it ignores initrd_generator= and would put its own initrd beside or over the new one: it will be masked',
  };
}

/** install.conf / kernel-install settings: the same key=value shape as os-release. */
export { parseKeyValue as readInstallConf } from '../host/parse/keyvalue.js';
