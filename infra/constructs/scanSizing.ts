/**
 * How big a file the `scan` function can provably finish, from its timeout and a conservative
 * throughput. One invocation streams each staged object once from S3 (sha256 and every scanner in
 * the same pass), then copies it to `blobs/` server-side. The binding rate is the single S3 GET
 * stream, not the CPU: sha256 plus the default scanners run at ≈ 700 MiB/s on one core (measured
 * locally on random data), while one GET stream from Lambda sustains 60–90 MiB/s; we take 60. The
 * records of a batch run side by side on the same network interface, so the budget is split by
 * `batchSize`. A safety factor of 2 covers slow streams and the server-side copy (UploadPartCopy,
 * 8 parts at a time, several hundred MiB/s); the result is rounded down to whole GiB.
 */
export const SCAN_SIZING = {
  /** Conservative sustained S3 GET throughput of one stream into Lambda, MiB/s. */
  readMiBPerSecond: 60,
  /** Seconds of each invocation kept for start-up, index writes and the copy to `blobs/`. */
  reserveSeconds: 60,
  safetyFactor: 2,
} as const;

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Largest file (bytes, whole GiB) one record of a `batchSize` batch can scan in `timeoutSeconds`. */
export function maxScannableFileSize(timeoutSeconds: number, batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`scan batch size must be a positive integer, got ${batchSize}`);
  const usable = timeoutSeconds - SCAN_SIZING.reserveSeconds;
  const bytes = (SCAN_SIZING.readMiBPerSecond * MIB * usable) / SCAN_SIZING.safetyFactor / batchSize;
  const gib = Math.floor(bytes / GIB);
  if (gib < 1) throw new Error(`a ${timeoutSeconds} s scan with batch size ${batchSize} cannot scan 1 GiB`);
  return gib * GIB;
}
