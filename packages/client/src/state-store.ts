import { DEFAULT_SESSION_TTL_MS } from '@spool/core';

/** What is remembered about an upload so that a later run of the program can resume it. */
export interface ResumeRecord {
  readonly sessionUri: string;
  /** When the session was started (ms since the epoch): sessions last a week. */
  readonly createdAt: number;
}

/**
 * Where interrupted uploads are remembered, by a key naming the source's content and the
 * destination. The Node default is a directory under the user's cache directory; a browser can
 * use localStorage or IndexedDB. Failures of a store never fail an upload: it only loses the
 * ability to resume.
 */
export interface ResumeStateStore {
  get(key: string): Promise<ResumeRecord | undefined>;
  set(key: string, record: ResumeRecord): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Keeps records for the life of the program: resume after a failure, not after a restart. */
export class MemoryStateStore implements ResumeStateStore {
  private readonly records = new Map<string, ResumeRecord>();

  get(key: string): Promise<ResumeRecord | undefined> {
    return Promise.resolve(this.records.get(key));
  }

  set(key: string, record: ResumeRecord): Promise<void> {
    this.records.set(key, record);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.records.delete(key);
    return Promise.resolve();
  }
}

/**
 * The key for an upload: the endpoint, the object, the source's fingerprint, and whatever goes
 * into the session when it starts (metadata, preconditions), since a resumed session keeps those.
 */
export function resumeKey(parts: {
  readonly endpoint: string;
  readonly bucket: string;
  readonly object: string;
  readonly fingerprint: string;
  readonly initiation: unknown;
}): string {
  return JSON.stringify([
    'spool-upload/1',
    parts.endpoint,
    parts.bucket,
    parts.object,
    parts.fingerprint,
    parts.initiation,
  ]);
}

/**
 * GCS keeps a session for a week from its start. A record within an hour of that is not worth
 * resuming: the session could expire in the middle.
 */
export function isStale(record: ResumeRecord, now: number): boolean {
  return now - record.createdAt > DEFAULT_SESSION_TTL_MS - 60 * 60 * 1000;
}
