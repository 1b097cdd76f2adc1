import { CHUNK_GRANULARITY, alignDown } from '@spool/core';
import { InvalidOptionsError } from './errors.js';

/** One request on a session: the bytes [start, end), and whether it completes the object. */
export interface RequestPlan {
  readonly start: number;
  readonly end: number;
  readonly final: boolean;
}

/** GCS accepts only multiples of 256 KiB for chunks other than the last. */
export function validateChunkSize(chunkSize: number | undefined): void {
  if (chunkSize === undefined) return;
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0 || chunkSize % CHUNK_GRANULARITY !== 0) {
    throw new InvalidOptionsError(
      `The chunk size must be a positive multiple of 256 KiB (262144 bytes), such as 8 MiB; got ${chunkSize} bytes. GCS refuses other chunk sizes.`,
    );
  }
}

/**
 * Where the next non-final request from `offset` ends in chunked mode: the first multiple of
 * `chunkSize` at least 256 KiB past `offset`. A non-final request shorter than 256 KiB fails the
 * session for good on GCS, and GCS keeps only whole 256 KiB units of one; so after a server kept
 * an unaligned prefix (storage-testbench and fault injection do) this re-aligns, at the cost of
 * one request of up to chunkSize + 256 KiB.
 */
export function chunkEnd(offset: number, chunkSize: number): number {
  return Math.ceil((offset + CHUNK_GRANULARITY) / chunkSize) * chunkSize;
}

/**
 * The next request from `offset` for a source of known size (a file, Blob or bytes).
 *
 * Chunked mode sends chunks as above. Otherwise one request streams everything up to the
 * object's last 256 KiB boundary, and a final request sends the rest (1 byte to 256 KiB, up to
 * 512 KiB after an unaligned offset) with X-Goog-Hash: hashes computed while sending can only go
 * on a request sent after the bulk of the bytes, and GCS checks them before it creates the object.
 */
export function planKnownSize(
  offset: number,
  size: number,
  chunkSize: number | undefined,
): RequestPlan {
  const bulkEnd =
    chunkSize === undefined ? (size > 0 ? alignDown(size - 1) : 0) : chunkEnd(offset, chunkSize);
  if (bulkEnd < size && bulkEnd - offset >= CHUNK_GRANULARITY) {
    return { start: offset, end: bulkEnd, final: false };
  }
  return { start: offset, end: size, final: true };
}
