/** Non-final chunks of a resumable upload must be multiples of this many bytes (256 KiB). */
export const CHUNK_GRANULARITY = 256 * 1024;

/** GCS's largest object, and largest single upload request: 5 TiB. */
export const MAX_OBJECT_SIZE = 5 * 1024 ** 4;

/** GCS keeps a resumable session for a week from its initiation. */
export const DEFAULT_SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Longest object name GCS accepts, in bytes of UTF-8. */
export const MAX_OBJECT_NAME_BYTES = 1024;

/** Rounds a byte offset down to the chunk granularity. */
export function alignDown(offset: number): number {
  return offset - (offset % CHUNK_GRANULARITY);
}
