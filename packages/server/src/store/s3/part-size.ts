const MiB = 1024 * 1024;

/** S3's limits on a multipart upload. */
export const MAX_PARTS = 10_000;
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;

/**
 * The smallest part Spool makes. Above S3's minimum, and a multiple of 256 KiB like every part
 * size here: parts end on chunk boundaries, so an interrupted request, which keeps a 256 KiB
 * multiple, never ends inside a part that is already uploaded.
 */
export const BASE_PART_SIZE = 8 * MiB;

/** With no size known, parts double in size every this many parts. */
export const PARTS_PER_DOUBLING = 1000;

/** Sizes announced in advance are spread over the parts left in whole MiB. */
export const ROUNDING = MiB;

/**
 * The size of part `n` (from 1), which starts at byte `start` of an object whose size is
 * `expectedSize` when a request or the initiation announced it.
 *
 * Unknown size: 8 MiB, doubling every 1000 parts (8 MiB × 1000 × (1 + 2 + … + 512) ≈ 7.8 TiB in
 * 10,000 parts, the largest 4 GiB), so any object up to 5 TiB fits. Known size: the rest spread
 * evenly over the parts left (at least 8 MiB), so big objects get big parts from the start, all
 * of one size. A size that becomes known halfway is spread over the parts the growing schedule
 * left: those before it hold at least 8 MiB each, so the rest always fits.
 */
export function partSize(n: number, start: number, expectedSize: number | undefined): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS)
    throw new RangeError(`part number ${n} is outside 1-${MAX_PARTS}`);
  if (expectedSize === undefined)
    return BASE_PART_SIZE * 2 ** Math.floor((n - 1) / PARTS_PER_DOUBLING);
  const even = Math.ceil(Math.max(0, expectedSize - start) / (MAX_PARTS - n + 1));
  return Math.min(Math.max(BASE_PART_SIZE, Math.ceil(even / ROUNDING) * ROUNDING), MAX_PART_SIZE);
}
