// The `Range` header of a 308 "Resume Incomplete": always `bytes=0-N` with N the last stored byte,
// and absent when nothing is stored. (RFC request-header syntax, not Content-Range syntax.)

export function formatPersistedRange(persisted: number): string | undefined {
  return persisted > 0 ? `bytes=0-${persisted - 1}` : undefined;
}

/** The number of bytes a 308's Range header says are stored, or undefined if it is malformed. */
export function parsePersistedRange(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined || header === '') return 0;
  const m = /^bytes=0-(\d{1,15})$/.exec(header.trim());
  return m ? Number(m[1]) + 1 : undefined;
}
