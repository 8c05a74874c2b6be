/**
 * A reader for the PE/COFF headers of a unified kernel image: just enough to
 * find its sections (.linux, .initrd, .cmdline, .osrel, .ucode, .pcrsig …).
 * UKIs come from other machines and from build outputs we did not write, so
 * every offset is checked against the buffer before it is read.
 */
import { InputError } from '../errors.js';

export interface PeSection {
  name: string;
  virtualSize: number;
  virtualAddress: number;
  rawSize: number;
  rawOffset: number;
}

export interface PeImage {
  /** IMAGE_FILE_MACHINE_*: 0x8664 x86_64, 0xaa64 aarch64 … */
  machine: number;
  arch: string;
  sections: PeSection[];
}

export class PeFormatError extends InputError {
  override readonly name = 'PeFormatError';
}

const MACHINES: Record<number, string> = { 0x8664: 'x86_64', 0xaa64: 'aarch64', 0x14c: 'i386', 0x1c4: 'arm', 0x5064: 'riscv64', 0x6264: 'loongarch64' };
/** The PE format allows 96 sections; anything above that is not an image we should trust. */
const MAX_SECTIONS = 96;

/** Parses the headers; throws PeFormatError naming what is wrong. */
export function readPe(buf: Uint8Array, what = 'the image'): PeImage {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string) => new PeFormatError(`${what} is not a PE/COFF (EFI) image: ${why}`, 'pass a unified kernel image (.efi) built by ukify or mkosi');
  if (b.length < 0x40 || b.toString('latin1', 0, 2) !== 'MZ') throw bad('no MZ header');
  const peOffset = b.readUInt32LE(0x3c);
  if (peOffset > b.length - 24) throw bad(`its PE header offset ${peOffset} lies outside the ${b.length}-byte file`);
  if (b.readUInt32LE(peOffset) !== 0x00004550) throw bad('no PE signature');
  const machine = b.readUInt16LE(peOffset + 4);
  const count = b.readUInt16LE(peOffset + 6);
  const optionalSize = b.readUInt16LE(peOffset + 20);
  if (count > MAX_SECTIONS) throw bad(`it claims ${count} sections (at most ${MAX_SECTIONS})`);
  const table = peOffset + 24 + optionalSize;
  if (table + count * 40 > b.length) throw bad('its section table runs past the end of the file');
  const sections: PeSection[] = [];
  for (let i = 0; i < count; i++) {
    const at = table + i * 40;
    const raw = b.subarray(at, at + 8);
    const end = raw.indexOf(0);
    const name = raw.toString('latin1', 0, end < 0 ? 8 : end);
    const s: PeSection = {
      name,
      virtualSize: b.readUInt32LE(at + 8),
      virtualAddress: b.readUInt32LE(at + 12),
      rawSize: b.readUInt32LE(at + 16),
      rawOffset: b.readUInt32LE(at + 20),
    };
    if (s.rawSize && s.rawOffset + s.rawSize > b.length) throw bad(`section ${JSON.stringify(name)} runs past the end of the file (truncated?)`);
    sections.push(s);
  }
  return { machine, arch: MACHINES[machine] ?? `0x${machine.toString(16)}`, sections };
}

/**
 * A section's bytes. The file holds SizeOfRawData bytes, padded to the file
 * alignment; VirtualSize is the real length (ukify and mkosi set both), so the
 * padding is cut off.
 */
export function sectionData(buf: Uint8Array, s: PeSection): Buffer {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = s.virtualSize && s.virtualSize < s.rawSize ? s.virtualSize : s.rawSize;
  return b.subarray(s.rawOffset, s.rawOffset + len);
}

export function findSection(pe: PeImage, name: string): PeSection | undefined {
  return pe.sections.find((s) => s.name === name);
}

/** True when the bytes start like a PE image: how build outputs and --image arguments are told apart from cpio. */
export function looksLikePe(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x4d && buf[1] === 0x5a;
}
