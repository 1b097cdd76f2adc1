import type {
  DeclaredHashes,
  HashState,
  ObjectMetadata,
  Preconditions,
  ProtocolError,
  SessionStatus,
  StoredObject,
} from '@spool/core';

/** Which API started a session: the answers to its requests differ in shape. */
export type SessionApi = 'json' | 'xml';

/**
 * Where a session's bytes are, in a form only the blob store that wrote them reads (JSON). Kept in
 * the session record, so that the record and the layout of its bytes change together: the S3
 * store lists its multipart upload's parts and the small objects holding the rest; the data
 * directory needs none.
 */
export interface BlobState {
  readonly [field: string]: unknown;
}

/** Everything the server keeps about one resumable upload session. */
export interface SessionRecord {
  readonly id: string;
  /** Where the session's bytes live; becomes the object's data on completion. */
  readonly blobId: string;
  readonly api: SessionApi;
  readonly bucket: string;
  readonly name: string;
  readonly metadata: ObjectMetadata;
  /** Hashes the client declared in the initiation body, checked at completion. */
  readonly declaredHashes: DeclaredHashes;
  readonly preconditions: Preconditions;
  /** X-Upload-Content-Length. */
  readonly declaredSize: number | undefined;
  /** The Origin of the initiation: the only origin this session answers (CORS). */
  readonly origin: string | undefined;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly status: SessionStatus;
  /** Bytes stored durably. */
  readonly persisted: number;
  /** The object size, once a Content-Range has given it. */
  readonly total: number | undefined;
  /** CRC32C and MD5 of the first `persisted` bytes. */
  readonly hash: HashState;
  /** Where the first `persisted` bytes are, as the blob store's last commit described them. */
  readonly blobState?: BlobState | undefined;
  /** For failed sessions: the error every later request gets. */
  readonly failure?: ProtocolError;
  /** For final sessions: the object they created, replayed to later requests. */
  readonly object?: StoredObject;
  /** Who started it: the id of the bearer token, when the server requires tokens. */
  readonly owner?: string;
}

/** An object as the metadata store keeps it: the resource plus where its bytes are. */
export interface ObjectRecord extends StoredObject {
  readonly blobId: string;
}

export interface BucketRecord {
  readonly name: string;
  readonly timeCreated: string;
  readonly updated: string;
  readonly metageneration: string;
  readonly location: string;
  readonly storageClass: string;
}

export interface ListObjectsQuery {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  /** List names strictly after this one (the page token). */
  readonly after: string | undefined;
  readonly maxResults: number;
  readonly startOffset: string | undefined;
  readonly endOffset: string | undefined;
  readonly includeTrailingDelimiter: boolean;
}

export interface ListObjectsPage {
  readonly items: ObjectRecord[];
  readonly prefixes: string[];
  /** The last name (or prefix) this page covered, when there is more. */
  readonly nextAfter: string | undefined;
}

export type CompleteResult =
  | {
      readonly ok: true;
      readonly object: ObjectRecord;
      readonly replaced: ObjectRecord | undefined;
    }
  | { readonly ok: false; readonly error: ProtocolError };

/** Sessions, objects and buckets. Implementations: the data directory, PostgreSQL. */
export interface MetadataStore {
  createBucket(bucket: BucketRecord): Promise<'created' | 'exists'>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  listBuckets(): Promise<BucketRecord[]>;
  /** Deletes an empty bucket; 'not-empty' if it holds objects. */
  deleteBucket(name: string): Promise<'deleted' | 'not-found' | 'not-empty'>;

  createSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** Replaces a session record atomically and durably. */
  putSession(session: SessionRecord): Promise<void>;
  deleteSession(id: string): Promise<void>;
  /** Active sessions, all of them or those one owner started (limits and metrics read this). */
  countOpenSessions(owner?: string): Promise<number>;
  /** Sessions whose expiry is before `now`. */
  expiredSessions(now: number): AsyncIterable<SessionRecord>;

  getObject(bucket: string, name: string): Promise<ObjectRecord | undefined>;
  listObjects(bucket: string, query: ListObjectsQuery): Promise<ListObjectsPage>;
  /**
   * Atomically: checks the session's preconditions against the current object, stores `object`
   * with a new generation (greater than the current one) and marks the session final with it.
   */
  completeUpload(
    session: SessionRecord,
    object: Omit<ObjectRecord, 'generation'>,
  ): Promise<CompleteResult>;
  /**
   * Atomically: checks `preconditions` against the current object and stores `object` with a new
   * generation. For uploads without a session (simple, multipart, compose).
   */
  commitObject(
    object: Omit<ObjectRecord, 'generation'>,
    preconditions: Preconditions,
  ): Promise<CompleteResult>;
  /**
   * Replaces an object's metadata (PATCH) if the stored object is still the same generation at
   * `expectedMetageneration`; false if it changed meanwhile.
   */
  putObjectMetadata(object: ObjectRecord, expectedMetageneration: string): Promise<boolean>;
  deleteObject(bucket: string, name: string, generation: string): Promise<ObjectRecord | undefined>;
  /**
   * Blobs of replaced or deleted objects are deleted right after the commit that released them;
   * a store that records released blobs in that commit hands the ones still listed (a crash came
   * in between) to `deleteBlob`, then forgets them. Returns how many it handed over.
   */
  deleteReleasedBlobs(deleteBlob: (blobId: string) => Promise<void>): Promise<number>;

  close(): Promise<void>;
}

/** Sequential writes into one session's data, from a given offset. */
export interface BlobWriter {
  /** Appends bytes; resolves when the writer can take more (back-pressure, not durability). */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Makes the first `offset` bytes durable and returns where they are, for the session record.
   * With `final`, drops whatever was written past `offset` and ends the writer. The caller
   * records the returned state before it commits again (the writer then frees what the previous
   * state no longer needs).
   */
  commit(offset: number, final: boolean): Promise<BlobState | undefined>;
  /** Ends the writer, keeping only what was committed. */
  abandon(): Promise<void>;
  /**
   * Whether committing `offset` now costs no more than waiting for what is in flight (S3: the
   * bytes before it are in parts, or pieces, already). Without it, every offset is.
   */
  cheapAt?(offset: number): boolean;
  /**
   * Whether a non-final `commit` may run while `write` goes on (the file writer: a checkpoint
   * syncs what is below it). Ingest then checkpoints without pausing the body.
   */
  readonly concurrentCheckpoints?: boolean;
}

/** Where a writer starts: the session's stored size and blob state, and its total if known. */
export interface WriterStart {
  readonly offset: number;
  readonly state: BlobState | undefined;
  /** The object's size when a request or the initiation has announced it. */
  readonly expectedSize: number | undefined;
}

/** Bytes of sessions and objects. Implementations: the data directory, S3. */
export interface BlobStore {
  /** Opens a session's data for writing at `start.offset`, dropping anything stored past it. */
  openWriter(blobId: string, start: WriterStart): Promise<BlobWriter>;
  /**
   * Makes a session's first `size` bytes, as `state` describes them, the blob that `read` serves
   * (an object's data). Idempotent: completing again after a crash is fine.
   */
  seal(blobId: string, size: number, state: BlobState | undefined): Promise<void>;
  /**
   * Opens a blob written in one go (simple and multipart uploads, compose): it stays invisible
   * until `commit(size, true)`, so a crash while writing it leaves nothing behind.
   */
  openOneShotWriter(blobId: string): Promise<BlobWriter>;
  /**
   * Bytes `start` to `end` inclusive; undefined when the blob is gone: its object was replaced or
   * deleted between reading the object's record and opening its bytes.
   */
  read(blobId: string, start: number, end: number): Promise<NodeJS.ReadableStream | undefined>;
  /** How many bytes a blob holds, or undefined if it does not exist. */
  size(blobId: string): Promise<number | undefined>;
  delete(blobId: string): Promise<void>;
  /**
   * Removes what crashes left behind that no record lists, written before `before` (older than
   * any session that may still be alive). Returns how many things it removed.
   */
  removeOrphans(before: number): Promise<number>;
  close(): Promise<void>;
}

export interface Stores {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
}
