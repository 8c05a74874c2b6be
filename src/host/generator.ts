/**
 * Which initrd generator builds a host's initrds today, so that advice names
 * it: "keep dracut" is wrong on Debian, whose kernels get their initrds from
 * initramfs-tools, and on Arch, whose mkinitcpio does it. A snapshot does not
 * list installed programs, so this goes by what kernel-install is told
 * (install.conf) and else by the distribution's default.
 */
import { familyOf } from '../variant/distro.js';
import { parseKeyValue } from './parse/keyvalue.js';

export const INITRD_GENERATORS = ['dracut', 'initramfs-tools', 'mkinitcpio'] as const;
export type InitrdGenerator = (typeof INITRD_GENERATORS)[number];

const BY_FAMILY = { fedora: 'dracut', opensuse: 'dracut', debian: 'initramfs-tools', arch: 'mkinitcpio' } as const;

/** null when neither install.conf nor the distribution says (the advice then speaks of "the current initrd generator"). */
export function initrdGeneratorOf(os: { id: string | null; idLike: string[] }, installConf: string | undefined): InitrdGenerator | null {
  if (parseKeyValue(installConf ?? '').get('initrd_generator') === 'dracut') return 'dracut';
  const family = os.id ? familyOf(os.id, os.idLike) : null;
  return family ? BY_FAMILY[family] : null;
}

/** "dracut", or "the current initrd generator" when it is not known. */
export function generatorName(g: InitrdGenerator | null): string {
  return g ?? 'the current initrd generator';
}
