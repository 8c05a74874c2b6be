/**
 * The early microcode archive kernel-install's 50-mkosi.install writes next
 * to a cpio initrd (its build_microcode_initrd), which 60-ukify.install puts
 * first in the UKI's .initrd: this CPU's microcode from /usr/lib/firmware as
 * kernel/x86/microcode/<vendor>.bin in an uncompressed newc cpio. Found as
 * mkosi's identify_cpu finds it; written natively, with zero timestamps and
 * owners so two builds give the same bytes.
 */
export interface CpuId {
  vendor: string;
  family: number;
  model: number;
  stepping: number;
}

/** The first /proc/cpuinfo entry with vendor, family, model and stepping (as identify_cpu reads it). */
export function identifyCpu(cpuinfo: string): CpuId | null {
  for (const entry of cpuinfo.split('\n\n')) {
    const v: Partial<CpuId> = {};
    for (const line of entry.split('\n')) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const key = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (!key || !value) continue;
      if (key === 'vendor_id') v.vendor = value;
      else if (key === 'cpu family' && /^\d+$/.test(value)) v.family = Number(value);
      else if (key === 'model' && /^\d+$/.test(value)) v.model = Number(value);
      else if (key === 'stepping' && /^\d+$/.test(value)) v.stepping = Number(value);
    }
    if (v.vendor !== undefined && v.family !== undefined && v.model !== undefined && v.stepping !== undefined) return v as CpuId;
  }
  return null;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** Where this CPU's microcode would be, first found wins; empty for vendors mkosi knows no microcode for. */
export function microcodeCandidates(cpu: CpuId): string[] {
  if (cpu.vendor === 'AuthenticAMD') return [`/usr/lib/firmware/amd-ucode/${cpu.family > 21 ? `microcode_amd_fam${cpu.family.toString(16)}h.bin` : 'microcode_amd.bin'}`];
  if (cpu.vendor === 'GenuineIntel') {
    const base = `/usr/lib/firmware/intel-ucode/${hex2(cpu.family)}-${hex2(cpu.model)}-${hex2(cpu.stepping)}`;
    return [base, `${base}.initramfs`];
  }
  return [];
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function newcEntry(name: string, mode: number, data: Buffer, ino: number): Buffer {
  const fields = [ino, mode, 0, 0, mode & 0o040000 ? 2 : 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
  const header = '070701' + fields.map((f) => f.toString(16).toUpperCase().padStart(8, '0')).join('');
  const head = Buffer.from(header + name + '\0', 'latin1');
  return Buffer.concat([head, Buffer.alloc(pad4(head.length)), data, Buffer.alloc(pad4(data.length))]);
}

/** kernel/x86/microcode/<vendor>.bin in a newc archive, directories first, as mkosi's make_cpio lays it out. */
export function microcodeCpio(vendor: string, ucode: Buffer): Buffer {
  const dir = 0o040755;
  const parts = [
    newcEntry('kernel', dir, Buffer.alloc(0), 1),
    newcEntry('kernel/x86', dir, Buffer.alloc(0), 2),
    newcEntry('kernel/x86/microcode', dir, Buffer.alloc(0), 3),
    newcEntry(`kernel/x86/microcode/${vendor}.bin`, 0o100644, ucode, 4),
    newcEntry('TRAILER!!!', 0, Buffer.alloc(0), 0),
  ];
  const body = Buffer.concat(parts);
  // cpio pads archives to 512-byte blocks.
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
