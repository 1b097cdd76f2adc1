import {
  ChecksumHasher,
  Md5,
  formatGoogHash,
  parsePersistedRange,
  reconcile,
  type ObjectHasher,
  type ObjectMetadata,
  type Preconditions,
} from '@spool/core';
import {
  DEFAULT_STALL_TIMEOUT,
  requestHeaders,
  statusHint,
  type ConnectionOptions,
} from './connection.js';
import type { Connectivity } from './connectivity.js';
import { SeekableCursor, StreamCursor, type Cursor } from './cursor.js';
import {
  DEFAULT_ENDPOINT,
  normalizeEndpoint,
  resolveDestination,
  urls,
  type Destination,
  type ResolvedDestination,
} from './destination.js';
import {
  CancelledError,
  DataLossError,
  GaveUpError,
  HttpError,
  IntegrityError,
  InvalidOptionsError,
  NetworkError,
  SessionGoneError,
  StallError,
  UploadError,
  redactUrl,
  type RequestContext,
} from './errors.js';
import { Emitter } from './events.js';
import { exchange, serverMessage, type Exchange } from './exchange.js';
import {
  jsonInitiation,
  signedInitiation,
  signedUrlObject,
  type InitiationRequest,
} from './initiation.js';
import {
  mediaBytesSent,
  multipartBody,
  multipartRequest,
  validateMultipartThreshold,
} from './multipart.js';
import { integrityProblems, objectFromResponse, type ObjectResource } from './object.js';
import { validateChunkSize, type RequestPlan } from './plan.js';
import {
  RetryBudget,
  hashMismatch,
  isRetryableNetworkError,
  isRetryableStatus,
  offsetExceedsUploaded,
  parseRetryAfter,
  retryPolicy,
  type RetryOptions,
  type RetryPolicy,
} from './retry.js';
import { abortReason, anySignal, sleep, untilAborted } from './signals.js';
import { openSource, type OpenedSource, type UploadSource } from './sources.js';
import { isStale, resumeKey, type ResumeStateStore } from './state-store.js';
import { cancelSession } from './storage-api.js';
import type { RequestBody } from './transport.js';

/** Chunk size for streams when none is given: GCS's recommendation. */
export const DEFAULT_STREAM_CHUNK_SIZE = 8 * 1024 * 1024;

export interface UploadOptions extends ConnectionOptions {
  /**
   * Send in chunks of this many bytes (a multiple of 256 KiB). Files, Blobs and bytes go in one
   * streaming request without it; streams always go in chunks (8 MiB by default).
   */
  readonly chunkSize?: number;
  /** The object's metadata (contentType, cacheControl, metadata…), sent when the session starts. */
  readonly metadata?: ObjectMetadata;
  /** Generation preconditions, checked by the server when the object is created. */
  readonly preconditions?: Preconditions;
  readonly retry?: RetryOptions;
  /** Where to remember the session so that a later run can resume it. */
  readonly stateStore?: ResumeStateStore;
  /** Identifies the source's content across runs; files and Files have one already. */
  readonly fingerprint?: string;
  /**
   * The device's network state (browsers: `browserConnectivity()`). While offline, failures
   * spend no retries, and the upload tries again as soon as the network is back.
   */
  readonly connectivity?: Connectivity;
  readonly onProgress?: (progress: Progress) => void;
  /**
   * Also compute the object's MD5, send it with the last request and check the server's against
   * it. CRC32C is always computed and checked; MD5 costs as much CPU again.
   */
  readonly md5?: boolean;
  /** Makes the hasher (CRC32C, and MD5 when `md5` is set); Node's entry uses OpenSSL's MD5. */
  readonly createHasher?: () => ObjectHasher;
  /**
   * Files, Blobs and bytes of up to this many bytes go to a bucket and name in one multipart
   * request instead of a resumable session: one round trip instead of two, and nothing to
   * resume (a failed request is sent again whole). 0, the default: always a session. Streams,
   * signed URLs and session URIs always use a session.
   */
  readonly multipartThreshold?: number;
}

export interface Progress {
  /** Bytes the server has confirmed. Never decreases within a session (see `session` events). */
  readonly acknowledged: number;
  /** How far into the object the network has accepted bytes. Never decreases within a session. */
  readonly sent: number;
  /** Body bytes the network accepted in all, resent ones included. */
  readonly transmitted: number;
  /** The object's size, when known (for a stream, once it has ended). */
  readonly total: number | undefined;
}

export interface SessionEvent {
  readonly uri: string;
  /** The session was remembered from an earlier run, or given by the caller. */
  readonly resumed: boolean;
  /** It replaces a session the server no longer knows (404/410): progress starts again at 0. */
  readonly replaced: boolean;
}

export interface RetryEvent {
  /** Failures in a row without progress, this one included. */
  readonly attempt: number;
  /** How long the client waits before trying again, in ms. */
  readonly delay: number;
  readonly error: Error;
  readonly acknowledged: number;
}

export interface UploadEvents extends Record<string, unknown> {
  progress: Progress;
  session: SessionEvent;
  retry: RetryEvent;
  /** The device went offline, or came back (with the `connectivity` option). */
  network: { readonly online: boolean };
  /** Something went wrong that does not stop the upload (the state store failed). */
  warning: Error;
}

type Paused = { readonly kind: 'paused' };
type Failed = { readonly kind: 'failed'; readonly error: Error; readonly retryAfter?: number };
type SessionOutcome =
  | { readonly kind: 'complete'; readonly object: ObjectResource }
  | {
      readonly kind: 'incomplete';
      readonly persisted: number;
      readonly context: RequestContext;
      /** The answer to a request that sent (or finalized) rather than one that only asked. */
      readonly sending: boolean;
    }
  | { readonly kind: 'gone'; readonly error: HttpError }
  | Failed
  | Paused;

/** The reason a pause aborts the request in flight with. */
class PauseSignal extends Error {}

/**
 * One upload. `start()` runs it and resolves to the object resource once the server has the
 * object and its size and hashes match what was read from the source.
 *
 *   const upload = new Upload(file, 'gs://bucket/name', { transport });
 *   upload.on('progress', (p) => console.log(p.acknowledged, p.total));
 *   const object = await upload.start();
 */
export class Upload extends Emitter<UploadEvents> {
  private readonly destination: ResolvedDestination;
  private readonly endpoint: string;
  private readonly policy: RetryPolicy;
  private readonly budget: RetryBudget;
  private readonly stallTimeout: number;
  private readonly source: OpenedSource;
  private readonly stop = new AbortController();
  private pauseController = new AbortController();
  /** Aborts the request in flight when the device goes offline. */
  private offlineController = new AbortController();
  /** Cuts a wait between attempts short when the network comes back. */
  private wakeController = new AbortController();
  private paused: { readonly promise: Promise<void>; readonly resume: () => void } | undefined;
  private running: Promise<ObjectResource> | undefined;

  private uri: string | undefined;
  private storeKey: string | undefined;
  private resumed = false;
  /** The endpoint has answered at least once. */
  private contacted = false;
  private acknowledged = 0;
  /** The end of the requests issued in this session: the server cannot have more. */
  private handedOver = 0;
  private sentOffset = 0;
  private transmitted = 0;
  private cursor: Cursor | undefined;

  constructor(
    source: UploadSource,
    destination: Destination,
    private readonly options: UploadOptions,
  ) {
    super();
    // Everything that can be checked without the network is checked now, before any request.
    validateChunkSize(options.chunkSize);
    validateMultipartThreshold(options.multipartThreshold);
    this.destination = resolveDestination(destination);
    this.endpoint = normalizeEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
    this.policy = retryPolicy(options.retry);
    this.budget = new RetryBudget(this.policy);
    this.stallTimeout = options.stallTimeout ?? DEFAULT_STALL_TIMEOUT;
    if (!(this.stallTimeout > 0)) {
      throw new InvalidOptionsError(
        `stallTimeout must be a number of ms > 0; got ${this.stallTimeout}.`,
      );
    }
    if (!options.transport) throw new InvalidOptionsError('A transport is required.');
    if (this.destination.kind === 'signed') {
      signedInitiation(
        this.destination.signedUrl,
        options.metadata ?? {},
        options.preconditions ?? {},
      );
    }
    this.source = openSource(source);
    if (options.onProgress) this.on('progress', options.onProgress);
  }

  /** The session URI, once there is one. */
  get sessionUri(): string | undefined {
    return this.uri;
  }

  /** Runs the upload (once; later calls return the same promise). */
  start(): Promise<ObjectResource> {
    return (this.running ??= this.run());
  }

  /** Stops sending until `resume()`; the request in flight is abandoned. */
  pause(): void {
    if (this.paused) return;
    let resume!: () => void;
    const promise = new Promise<void>((r) => (resume = r));
    this.paused = { promise, resume };
    this.pauseController.abort(new PauseSignal());
  }

  /** Continues after `pause()`, from what the server has. */
  resume(): void {
    if (!this.paused) return;
    this.pauseController = new AbortController();
    const { resume } = this.paused;
    this.paused = undefined;
    resume();
  }

  /**
   * Ends the upload for good: the request in flight is abandoned, `start()` rejects with a
   * CancelledError, the session is forgotten and cancelled on the server, which drops its
   * bytes. Resolves once the server has cancelled it (or no longer knew it).
   */
  async cancel(): Promise<void> {
    this.stop.abort(new CancelledError('The upload was cancelled.'));
    await this.running?.catch(() => undefined);
    if (this.uri === undefined) return this.forget();
    const { transport, token, headers, stallTimeout } = this.options;
    try {
      await cancelSession(this.uri, {
        transport,
        endpoint: this.endpoint,
        ...(token !== undefined && { token }),
        ...(headers !== undefined && { headers }),
        ...(stallTimeout !== undefined && { stallTimeout }),
      });
    } catch (error) {
      if (!(error instanceof HttpError && (error.status === 404 || error.status === 410))) {
        throw error;
      }
    } finally {
      // Forgotten only once the server was told, so that a record gone means a session gone;
      // forgotten even if it could not be told: a cancelled upload is never resumed (the
      // session then expires on its own).
      await this.forget();
    }
  }

  private async run(): Promise<ObjectResource> {
    const { signal, retry } = this.options;
    const onAbort = () =>
      this.stop.abort(signal?.reason ?? new DOMException('The upload was aborted.', 'AbortError'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const deadline =
      retry?.deadline === undefined
        ? undefined
        : setTimeout(
            () =>
              this.stop.abort(
                new GaveUpError(
                  `The upload did not finish within its deadline of ${retry.deadline} ms (retry.deadline); the server has ${this.acknowledged} byte(s). It can be resumed.`,
                  undefined,
                ),
              ),
            retry.deadline,
          );
    const unwatch = this.watchNetwork();
    const createHasher =
      this.options.createHasher ??
      (() => new ChecksumHasher(this.options.md5 ? new Md5() : undefined));
    const cursor = (this.cursor =
      this.source.kind === 'seekable'
        ? new SeekableCursor(this.source.source, this.options.chunkSize, createHasher)
        : new StreamCursor(
            this.source.pieces,
            this.options.chunkSize ?? DEFAULT_STREAM_CHUNK_SIZE,
            createHasher,
          ));
    try {
      return await this.loop(cursor);
    } catch (error) {
      // A session the server refused, or that cannot be trusted any more, is not worth resuming.
      if (
        error instanceof HttpError ||
        error instanceof DataLossError ||
        error instanceof IntegrityError ||
        error instanceof SessionGoneError
      ) {
        await this.forget();
      }
      throw error;
    } finally {
      unwatch();
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      await cursor.close().catch(() => undefined);
    }
  }

  private async loop(cursor: Cursor): Promise<ObjectResource> {
    const size = cursor.size();
    const threshold = this.options.multipartThreshold ?? 0;
    if (this.destination.kind === 'object' && size !== undefined && size <= threshold) {
      return this.sendWhole(cursor, this.destination);
    }
    let query = await this.openSession(cursor);
    while (true) {
      await this.whilePaused();
      const outcome = query ? await this.query() : await this.send(cursor);
      query = false;
      switch (outcome.kind) {
        case 'complete':
          return this.finish(cursor, outcome.object);
        case 'incomplete':
          await this.reconcile(cursor, outcome);
          break;
        case 'failed':
          await this.backoff(outcome.error, outcome.retryAfter);
          query = true;
          break;
        case 'paused':
          query = true;
          break;
        case 'gone':
          await this.replaceSession(cursor, outcome.error);
          break;
      }
    }
  }

  /** Starts, or finds, the session. Returns whether to ask the server what it has first. */
  private async openSession(cursor: Cursor): Promise<boolean> {
    if (this.destination.kind === 'session') {
      this.uri = this.destination.sessionUri;
      this.resumeSession(cursor);
      return true;
    }
    const store = this.options.stateStore;
    const fingerprint =
      this.options.fingerprint ??
      (this.source.kind === 'seekable' ? this.source.source.fingerprint : undefined);
    if (store && fingerprint !== undefined) {
      // A signed URL changes with every signature: what it names is what identifies the upload.
      const target =
        this.destination.kind === 'signed'
          ? signedUrlObject(this.destination.signedUrl)
          : { endpoint: this.endpoint, ...this.destination };
      this.storeKey = resumeKey({
        endpoint: target.endpoint,
        bucket: target.bucket,
        object: target.object,
        fingerprint,
        initiation: [this.options.metadata ?? {}, this.options.preconditions ?? {}],
      });
      const key = this.storeKey;
      const record = await this.storeCall(() => store.get(key));
      if (record && !isStale(record, Date.now())) {
        this.uri = record.sessionUri;
        this.resumeSession(cursor);
        return true;
      }
      if (record) await this.forget();
    }
    await this.createSession(cursor, false);
    return false;
  }

  private resumeSession(cursor: Cursor): void {
    this.resumed = true;
    // An earlier run may have sent anything up to the end of the object.
    this.handedOver = cursor.size() ?? Infinity;
    this.emit('session', { uri: this.uri!, resumed: true, replaced: false });
  }

  private initiation(cursor: Cursor): InitiationRequest {
    const metadata = this.options.metadata ?? {};
    const preconditions = this.options.preconditions ?? {};
    switch (this.destination.kind) {
      case 'object':
        return jsonInitiation(
          this.endpoint,
          this.destination,
          metadata,
          preconditions,
          cursor.size(),
        );
      case 'signed':
        return signedInitiation(this.destination.signedUrl, metadata, preconditions);
      case 'session':
        throw new Error('unreachable: a session given by its URI is never started');
    }
  }

  private async createSession(cursor: Cursor, replaced: boolean): Promise<void> {
    const { url, headers: startHeaders, body, context, notFoundHint } = this.initiation(cursor);
    while (true) {
      await this.whilePaused();
      const headers = { ...(await this.headers(url)), ...startHeaders };
      const outcome = await this.attempt(context, async (signal) => {
        const ex = await exchange(
          this.options.transport,
          { method: 'POST', url, headers, body: bytesBody(body) },
          { signal, stallTimeout: this.stallTimeout, context },
        );
        return this.initiationOutcome(ex, context, notFoundHint);
      });
      if (outcome.kind === 'created') {
        this.uri = new URL(outcome.location, url).href;
        break;
      }
      // A lost answer to a retried POST leaves an unused session on the server: harmless, it
      // expires in a week. Only the session whose Location arrives is used.
      if (outcome.kind === 'failed') await this.backoff(outcome.error, outcome.retryAfter);
    }
    this.budget.progress();
    this.acknowledged = 0;
    this.handedOver = 0;
    this.sentOffset = 0;
    const key = this.storeKey;
    const store = this.options.stateStore;
    if (key !== undefined && store) {
      const record = { sessionUri: this.uri, createdAt: Date.now() };
      await this.storeCall(() => store.set(key, record));
    }
    this.emit('session', { uri: this.uri, resumed: false, replaced });
  }

  private initiationOutcome(
    ex: Exchange,
    context: RequestContext,
    notFoundHint: string,
  ): { kind: 'created'; location: string } | Failed {
    this.contacted = true;
    const location = ex.header('location');
    if ((ex.status === 200 || ex.status === 201) && location) return { kind: 'created', location };
    const message = serverMessage(ex);
    if (ex.status === 200 || ex.status === 201) {
      throw new HttpError(
        ex.status,
        'no Location header',
        context,
        undefined,
        'The server does not speak the GCS resumable upload protocol.',
      );
    }
    return this.refused(ex, message, context, notFoundHint);
  }

  /**
   * A request that names a bucket, refused: retried when the status says so, otherwise an
   * HttpError with what to check (`notFoundHint` for a 404).
   */
  private refused(
    ex: Exchange,
    message: string,
    context: RequestContext,
    notFoundHint: string,
  ): Failed {
    const hint =
      ex.status === 404 ? notFoundHint : statusHint(ex.status, this.options.token !== undefined);
    return retryOrThrow(
      ex,
      new HttpError(ex.status, message, context, ex.header('x-guploader-uploadid'), hint),
    );
  }

  private async send(cursor: Cursor): Promise<SessionOutcome> {
    const plan = await cursor.plan();
    const hashes = plan.final ? (await cursor.digests()).hashes : undefined;
    const contentRange = formatRange(plan, cursor.size());
    const url = this.uri!;
    const context: RequestContext = {
      method: 'PUT',
      what: `sending Content-Range: ${contentRange}`,
      url,
    };
    const headers = {
      ...(await this.headers(url)),
      'content-range': contentRange,
      ...(hashes && { 'x-goog-hash': formatGoogHash(hashes) }),
    };
    const body = plan.end > plan.start ? cursor.body(plan) : undefined;
    this.handedOver = Math.max(this.handedOver, plan.end);
    let accepted = 0;
    return this.attempt(context, async (signal) => {
      const ex = await exchange(
        this.options.transport,
        {
          method: 'PUT',
          url,
          headers,
          body,
          onSent: (bytes) => {
            accepted += bytes;
            this.sent(plan.start + accepted, bytes);
          },
        },
        { signal, stallTimeout: this.stallTimeout, context },
      );
      return this.sessionOutcome(ex, context, true);
    });
  }

  /**
   * The whole object in one multipart request, sent again whole after a failure. A request sent
   * again may meet the object an earlier one created after all: when the preconditions then fail
   * (412), the upload has succeeded if the object there has this size and these hashes.
   */
  private async sendWhole(
    cursor: Cursor,
    destination: Extract<ResolvedDestination, { kind: 'object' }>,
  ): Promise<ObjectResource> {
    const { size, hashes } = await cursor.digests();
    const request = multipartRequest(
      this.endpoint,
      destination,
      this.options.metadata ?? {},
      this.options.preconditions ?? {},
      hashes,
    );
    const { url, context } = request;
    let again = false;
    while (true) {
      await this.whilePaused();
      const headers = { ...(await this.headers(url)), ...request.headers };
      const body = multipartBody(request, cursor.body({ start: 0, end: size, final: true }));
      const outcome = await this.attempt(context, async (signal) => {
        let accepted = 0;
        let media = 0;
        const ex = await exchange(
          this.options.transport,
          {
            method: 'POST',
            url,
            headers,
            body,
            onSent: (bytes) => {
              accepted += bytes;
              const now = mediaBytesSent(request, size, accepted);
              if (now > media) this.sent(now, now - media);
              media = now;
            },
          },
          { signal, stallTimeout: this.stallTimeout, context },
        );
        if (ex.status === 412 && again) {
          const existing = await this.storedObject(destination, signal);
          if (existing && integrityProblems(existing, size, hashes).length === 0) {
            return { kind: 'complete' as const, object: existing };
          }
        }
        return this.wholeOutcome(ex, context, request.notFoundHint);
      });
      if (outcome.kind === 'complete') return this.finish(cursor, outcome.object);
      if (outcome.kind === 'failed') await this.backoff(outcome.error, outcome.retryAfter);
      again = true;
    }
  }

  private wholeOutcome(
    ex: Exchange,
    context: RequestContext,
    notFoundHint: string,
  ): { kind: 'complete'; object: ObjectResource } | Failed {
    this.contacted = true;
    if (ex.status === 200) return completedOrCutShort(ex, context);
    const message = serverMessage(ex);
    if (hashMismatch(ex.status, message)) {
      throw new IntegrityError(
        `The server refused the object: the bytes it received do not match the hashes read from the source (it answered ${ex.status} when ${context.what}: ${message}). The source changed while it was read, or bytes were corrupted on the way; nothing was stored. Upload it again.`,
      );
    }
    return this.refused(ex, message, context, notFoundHint);
  }

  /** The object now stored under the destination's name, or undefined if it cannot be read. */
  private async storedObject(
    destination: { readonly bucket: string; readonly object: string },
    signal: AbortSignal,
  ): Promise<ObjectResource | undefined> {
    const url = urls.object(this.endpoint, destination.bucket, destination.object);
    const context: RequestContext = {
      method: 'GET',
      what: `reading gs://${destination.bucket}/${destination.object}'s metadata`,
      url,
    };
    const ex = await exchange(
      this.options.transport,
      { method: 'GET', url, headers: await this.headers(url) },
      { signal, stallTimeout: this.stallTimeout, context },
    );
    return ex.status === 200 ? objectFromResponse(ex) : undefined;
  }

  // A status query (Content-Range: bytes */*): what does the server have?
  private query(): Promise<SessionOutcome> {
    const url = this.uri!;
    const context: RequestContext = {
      method: 'PUT',
      what: "asking for the session's status (Content-Range: bytes */*)",
      url,
    };
    return this.attempt(context, async (signal) => {
      const headers = { ...(await this.headers(url)), 'content-range': 'bytes */*' };
      const ex = await exchange(
        this.options.transport,
        { method: 'PUT', url, headers },
        { signal, stallTimeout: this.stallTimeout, context },
      );
      return this.sessionOutcome(ex, context, false);
    });
  }

  private sessionOutcome(ex: Exchange, context: RequestContext, sending: boolean): SessionOutcome {
    this.contacted = true;
    if (ex.status === 200 || ex.status === 201) return completedOrCutShort(ex, context);
    const uploadId = ex.header('x-guploader-uploadid');
    if (ex.status === 308) {
      const persisted = parsePersistedRange(ex.header('range'));
      if (persisted === undefined) {
        throw new HttpError(
          308,
          `malformed Range header "${ex.header('range')}"`,
          context,
          uploadId,
          'The server does not speak the GCS resumable upload protocol.',
        );
      }
      return { kind: 'incomplete', persisted, context, sending };
    }
    const message = serverMessage(ex);
    const exceeds = offsetExceedsUploaded(ex.status, message);
    if (exceeds) {
      throw new DataLossError(
        'server-behind-request',
        exceeds.offset,
        exceeds.persisted,
        `Data loss: the server has ${exceeds.persisted} byte(s), fewer than the ${exceeds.offset} it reported before this request (it answered ${ex.status} when ${context.what}: ${message}). The upload cannot continue on this session; start a new upload.`,
      );
    }
    if (hashMismatch(ex.status, message)) {
      throw new DataLossError(
        'hash-mismatch',
        this.handedOver,
        this.acknowledged,
        `Data loss: the server refused to create the object because the bytes it holds for this session are not the ones this client sent (it answered ${ex.status} when ${context.what}: ${message}). Another client wrote to the same session, or bytes were corrupted on the way; this session can never complete. Upload again, on a new session. [${redactUrl(this.uri!)}]`,
      );
    }
    const error = new HttpError(
      ex.status,
      message,
      context,
      uploadId,
      statusHint(ex.status, this.options.token !== undefined),
    );
    if (ex.status === 404 || ex.status === 410) return { kind: 'gone', error };
    return retryOrThrow(ex, error);
  }

  /** The seed's cases: compare what the server has with what the client can send. */
  private async reconcile(
    cursor: Cursor,
    { persisted: remote, context, sending }: Extract<SessionOutcome, { kind: 'incomplete' }>,
  ): Promise<void> {
    const result = reconcile({
      ...cursor.window(),
      remote,
      acknowledged: this.acknowledged,
      sent: this.handedOver,
    });
    if (result.kind === 'data-loss') {
      throw new DataLossError(
        result.scenario,
        result.local,
        result.remote,
        `${result.message} [after ${context.what}, ${redactUrl(this.uri!)}]`,
      );
    }
    const progressed = remote > this.acknowledged;
    this.acknowledge(remote);
    await cursor.seek(result.offset);
    if (progressed) this.budget.progress();
    else if (sending) {
      // A request that stored nothing is a failure like any other, or a server that never
      // stores anything would be asked forever.
      await this.backoff(
        new UploadError(
          'http',
          `The server answered 308 when ${context.what} but stored none of it (it has ${remote} byte(s)).`,
        ),
      );
    }
  }

  /** 404 or 410: the session is gone. Start over on a new one if the source allows. */
  private async replaceSession(cursor: Cursor, error: HttpError): Promise<void> {
    await this.forget();
    if (this.destination.kind === 'session') {
      throw new SessionGoneError(
        `The upload session is gone: ${error.message} It expired (sessions last a week), was cancelled, or failed; a session given by its URI cannot be replaced, so start a new upload to the object instead.`,
      );
    }
    if (!cursor.rewindable()) {
      throw new SessionGoneError(
        `The upload session is gone after ${this.acknowledged} byte(s) were stored, and a stream cannot be read again from its start: ${error.message} Upload it again from the beginning.`,
      );
    }
    // A remembered session that has expired is simply replaced; a session lost in the middle of
    // this run counts as a failure, so a server that keeps losing sessions ends the upload.
    const stale = this.resumed && this.acknowledged === 0;
    this.resumed = false;
    if (!stale) await this.backoff(error);
    await cursor.seek(0);
    await this.createSession(cursor, !stale);
  }

  private async finish(cursor: Cursor, object: ObjectResource): Promise<ObjectResource> {
    const { size, hashes } = await cursor.digests();
    const problems = integrityProblems(object, size, hashes);
    if (problems.length > 0 && this.destination.kind === 'session') {
      // Someone else has this session's URI, and their upload may be what completed it: a
      // session this client did not start is never its own to clean up.
      const { bucket, name, generation } = object;
      const which =
        name === undefined ? 'the object' : `gs://${bucket}/${name} generation ${generation}`;
      throw new DataLossError(
        'other-writer',
        size,
        Number(object.size),
        `Data loss: this session was completed with an object that is not what this client sent (${problems.join('; ')}): another client with the same session URI completed it first. ${which} was left as it is: if no one else had this session URI, the server stored something else, and it should be deleted. Upload again, on a new session. [${redactUrl(this.uri!)}]`,
      );
    }
    if (problems.length > 0) {
      const removed = await this.removeCorrupt(object);
      throw new IntegrityError(
        `The object the server stored is not what was read from the source: ${problems.join('; ')}. ${removed}`,
      );
    }
    await this.forget();
    this.acknowledge(size);
    return object;
  }

  /**
   * Deletes exactly the generation that came out wrong (ifGenerationMatch), so that no corrupt
   * object stays behind and a newer upload of the same name is never touched.
   */
  private async removeCorrupt(object: ObjectResource): Promise<string> {
    const { bucket, name, generation } = object;
    if (bucket === undefined || name === undefined || generation === undefined) {
      return 'The server did not say which object it created; check it and delete it.';
    }
    const url = `${urls.object(this.endpoint, bucket, name)}?ifGenerationMatch=${encodeURIComponent(generation)}`;
    const context: RequestContext = {
      method: 'DELETE',
      what: `deleting gs://${bucket}/${name} generation ${generation}`,
      url,
    };
    try {
      const ex = await exchange(
        this.options.transport,
        { method: 'DELETE', url, headers: await this.headers(url) },
        { signal: this.stop.signal, stallTimeout: this.stallTimeout, context },
      );
      if (ex.status === 204 || ex.status === 200)
        return `It has been deleted (generation ${generation}).`;
      return `Deleting it failed (${ex.status} ${serverMessage(ex)}); delete gs://${bucket}/${name} generation ${generation} yourself.`;
    } catch (error) {
      return `Deleting it failed (${(error as Error).message}); delete gs://${bucket}/${name} generation ${generation} yourself.`;
    }
  }

  /**
   * Runs one request. Failures worth retrying come back as `failed`; a pause as `paused`;
   * anything else (an abort, a fatal answer, a broken source) is thrown.
   */
  private async attempt<T>(
    context: RequestContext,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T | Failed | Paused> {
    const { signal, dispose } = anySignal(
      this.stop.signal,
      this.pauseController.signal,
      this.offlineController.signal,
    );
    try {
      return await run(signal);
    } catch (error) {
      if (this.stop.signal.aborted) throw abortReason(this.stop.signal);
      if (error instanceof PauseSignal) return { kind: 'paused' };
      if (error instanceof StallError) return { kind: 'failed', error };
      if (error instanceof NetworkError) {
        if (isRetryableNetworkError(error.errno, this.contacted)) return { kind: 'failed', error };
        throw new NetworkError(
          `Cannot reach ${this.endpoint} when ${context.what}: ${error.message} Check the endpoint (--endpoint, $SPOOL_ENDPOINT) and that the server is running.`,
          error.errno,
          { cause: error },
        );
      }
      throw error;
    } finally {
      dispose();
    }
  }

  /** Waits before the next attempt, or gives up when the budget or the deadline is spent. */
  private async backoff(error: Error, retryAfter?: number): Promise<void> {
    const delay =
      this.options.connectivity?.online() === false
        ? this.budget.offlineFailure(retryAfter)
        : this.budget.failure(retryAfter);
    if (delay === undefined) {
      const have = `the server has ${this.acknowledged} byte(s)${this.cursor?.size() === undefined ? '' : ` of ${this.cursor.size()}`}`;
      throw new GaveUpError(
        this.policy.retries === 0
          ? `Retries are off (retry.retries is 0), so the first failure ends the upload; ${have}. ${error.message}`
          : `Gave up after ${this.policy.retries} retries in a row without progress (retry.retries); ${have}. Last failure: ${error.message}`,
        error,
      );
    }
    this.emit('retry', {
      attempt: this.budget.attempt,
      delay,
      error,
      acknowledged: this.acknowledged,
    });
    // A pause ends the wait (resuming asks the server at once), and so does the network
    // coming back.
    const { signal, dispose } = anySignal(
      this.stop.signal,
      this.pauseController.signal,
      this.wakeController.signal,
    );
    try {
      await sleep(delay, signal);
    } catch (reason) {
      if (this.stop.signal.aborted) throw abortReason(this.stop.signal);
      if (!signal.aborted) throw reason;
    } finally {
      dispose();
    }
  }

  /** Follows the device's network state, when the caller gave a way to know it. */
  private watchNetwork(): () => void {
    const connectivity = this.options.connectivity;
    if (!connectivity) return () => undefined;
    return connectivity.watch((online) => {
      if (online) {
        this.wakeController.abort();
        this.wakeController = new AbortController();
      } else {
        // The request in flight cannot finish; fail it now rather than after a stall.
        this.offlineController.abort(new NetworkError('The device went offline.', undefined));
        this.offlineController = new AbortController();
      }
      this.emit('network', { online });
    });
  }

  private async whilePaused(): Promise<void> {
    while (this.paused) await untilAborted(this.paused.promise, this.stop.signal);
    if (this.stop.signal.aborted) throw abortReason(this.stop.signal);
  }

  private acknowledge(offset: number): void {
    if (offset <= this.acknowledged) return;
    this.acknowledged = offset;
    this.sentOffset = Math.max(this.sentOffset, offset);
    this.progress();
  }

  private sent(offset: number, bytes: number): void {
    this.transmitted += bytes;
    this.sentOffset = Math.max(this.sentOffset, offset);
    this.progress();
  }

  private progress(): void {
    this.emit('progress', {
      acknowledged: this.acknowledged,
      sent: this.sentOffset,
      transmitted: this.transmitted,
      total: this.cursor?.size(),
    });
  }

  private headers(url: string): Promise<Record<string, string>> {
    return requestHeaders(url, this.endpoint, this.options);
  }

  private async forget(): Promise<void> {
    const key = this.storeKey;
    const store = this.options.stateStore;
    if (key !== undefined && store) await this.storeCall(() => store.delete(key));
  }

  /** A state store that fails costs the ability to resume, never the upload. */
  private async storeCall<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      this.emit(
        'warning',
        new UploadError(
          'source',
          `The resume state store failed, so this upload cannot be resumed after a restart: ${(error as Error).message}`,
          { cause: error },
        ),
      );
      return undefined;
    }
  }
}

/** Runs an upload to the end; see `Upload` for progress events, pause and resume. */
export async function upload(
  source: UploadSource,
  destination: Destination,
  options: UploadOptions,
): Promise<ObjectResource> {
  return new Upload(source, destination, options).start();
}

function formatRange(plan: RequestPlan, size: number | undefined): string {
  const total = plan.final ? String(plan.end) : size === undefined ? '*' : String(size);
  if (plan.start === plan.end) return `bytes */${total}`;
  return `bytes ${plan.start}-${plan.end - 1}/${total}`;
}

function bytesBody(bytes: Uint8Array): RequestBody {
  return {
    length: bytes.length,
    chunks: [bytes],
  };
}

/**
 * The object in a 200/201 answer; or, when its body was cut short (the connection broke while the
 * object was on its way), a failure worth retrying.
 */
function completedOrCutShort(
  ex: Exchange,
  context: RequestContext,
): { kind: 'complete'; object: ObjectResource } | Failed {
  const object = objectFromResponse(ex);
  if (object) return { kind: 'complete', object };
  return {
    kind: 'failed',
    error: new NetworkError(
      `The server answered ${ex.status} (complete) when ${context.what}, but its object resource is missing or cut short.`,
      undefined,
    ),
  };
}

/** A failure worth retrying (after the server's Retry-After, if any), or thrown. */
function retryOrThrow(ex: Exchange, error: HttpError): Failed {
  if (!isRetryableStatus(ex.status)) throw error;
  return {
    kind: 'failed',
    error,
    retryAfter: parseRetryAfter(ex.header('retry-after'), Date.now()),
  };
}
