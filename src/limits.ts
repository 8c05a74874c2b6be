/**
 * Every size and depth limit on input from other machines (snapshots,
 * repositories, caches, journals, roots), declared once. A limit that is hit
 * is a clear refusal (exit 2) naming what was too large, never an
 * out-of-memory crash or a hang. The sizes sit far above anything real: the
 * largest real inputs are noted beside each.
 */
export const LIMITS = {
  /** One probe output in a snapshot (real lsblk/findmnt JSON: < 100 KiB). */
  snapshotFileBytes: 16 * 1024 * 1024,
  /** All files of one snapshot together (real snapshots: < 1 MiB). */
  snapshotTotalBytes: 64 * 1024 * 1024,
  /** Files in one snapshot (real snapshots: < 300). */
  snapshotFiles: 20_000,
  /** A snapshot as one tar archive: its probe files, plus a header block per entry (real: < 1 MiB). */
  snapshotArchiveBytes: 64 * 1024 * 1024 + 20_000 * 1024,
  /** Directory depth inside a snapshot (real: 3). */
  snapshotDepth: 16,
  /** repomd.xml (real: < 20 KiB). */
  repomdBytes: 4 * 1024 * 1024,
  /** One compressed metadata file as stored (Fedora's filelists.xml.zst: ~ 50 MiB). */
  metadataCompressedBytes: 512 * 1024 * 1024,
  /**
   * One metadata file after decompression (Fedora's primary.xml: ~ 250 MiB).
   * Also V8's longest string is just under 512 MiB, so nothing larger could be parsed.
   */
  metadataBytes: 500 * 1024 * 1024,
  /** One unpacked initrd segment read for the checks (real: 100–300 MiB unpacked). */
  initrdUnpackedBytes: 2 * 1024 * 1024 * 1024,
  /** The binary metadata cache (64,000 packages: ~ 20 MiB). */
  cacheBytes: 1024 * 1024 * 1024,
  /** Configuration files read from a root: install.conf, plugins, crypttab, os-release (real: < 64 KiB). */
  configFileBytes: 4 * 1024 * 1024,
  /** A file whose prior content the journal keeps (an initrd kept as a fallback: ~ 100 MiB). */
  journaledFileBytes: 512 * 1024 * 1024,
  /** The install journal (base64 of the touched files). */
  journalBytes: 768 * 1024 * 1024,
  /** Symlinks followed while resolving one path inside a root (Linux's own limit is 40). */
  symlinkHops: 40,
  /** Nesting of one rich dependency, "(a or (b and (c …)))" (real: < 5). */
  richDepth: 64,
  /** The history window one zstd frame may ask the decoder to allocate (zstd's own default limit, ZSTD_WINDOWLOG_LIMIT_DEFAULT: 128 MiB). */
  zstdWindowBytes: 128 * 1024 * 1024,
} as const;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GiB`;
}
