// Every way an upload can fail, as a class a caller can tell apart with `instanceof` or `code`.
// Messages say what happened, with the request and response context that explains it, and what to
// do next.

export type UploadErrorCode =
  | 'invalid-options'
  | 'http'
  | 'network'
  | 'stall'
  | 'data-loss'
  | 'integrity'
  | 'session-gone'
  | 'gave-up'
  | 'source'
  | 'cancelled';

export class UploadError extends Error {
  constructor(
    readonly code: UploadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The options cannot work; found before any request is made. */
export class InvalidOptionsError extends UploadError {
  constructor(message: string) {
    super('invalid-options', message);
  }
}

/** What a request was, for error messages. */
export interface RequestContext {
  readonly method: string;
  /** What the client was doing, to follow "when": "asking for the session's status"… */
  readonly what: string;
  readonly url: string;
}

/** A response the client does not retry (or the last one before it gave up). */
export class HttpError extends UploadError {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
    readonly request: RequestContext,
    readonly uploadId: string | undefined,
    hint = '',
  ) {
    const id = uploadId ? `, X-GUploader-UploadID ${uploadId}` : '';
    super(
      'http',
      `The server answered ${status} when ${request.what}${serverMessage ? `: ${serverMessage}` : '.'}${hint ? ` ${hint}` : ''} [${request.method} ${redactUrl(request.url)}${id}]`,
    );
  }
}

/** The connection failed: refused, reset, closed early, a DNS failure… */
export class NetworkError extends UploadError {
  constructor(
    message: string,
    /** The system error code when there is one (ECONNRESET, ECONNREFUSED, ENOTFOUND…). */
    readonly errno: string | undefined,
    options?: { cause?: unknown },
  ) {
    super('network', message, options);
  }
}

/** No byte went out and no byte came back for the stall timeout. */
export class StallError extends UploadError {
  constructor(
    readonly timeoutMs: number,
    request: RequestContext,
  ) {
    super(
      'stall',
      `Stalled when ${request.what}: no byte was accepted by the network and no response arrived for ${timeoutMs} ms.`,
    );
  }
}

/** The server and the client disagree in a way that cannot be repaired on this session. */
export class DataLossError extends UploadError {
  constructor(
    readonly scenario: string,
    readonly clientOffset: number,
    readonly serverOffset: number,
    message: string,
  ) {
    super('data-loss', message);
  }
}

/** The finished object is not what was sent. */
export class IntegrityError extends UploadError {
  constructor(message: string) {
    super('integrity', message);
  }
}

/** The session is gone (404, 410) and the source cannot be read again from its start. */
export class SessionGoneError extends UploadError {
  constructor(message: string) {
    super('session-gone', message);
  }
}

/** Retries ran out (too many failures in a row without progress, or the deadline). */
export class GaveUpError extends UploadError {
  constructor(message: string, cause: unknown) {
    super('gave-up', message, { cause });
  }
}

/** The source could not be read, or changed while it was being uploaded. */
export class SourceError extends UploadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('source', message, options);
  }
}

/** `cancel()` ended the upload; its session was cancelled on the server. */
export class CancelledError extends UploadError {
  constructor(message: string) {
    super('cancelled', message);
  }
}

/**
 * A session URI and a signed URL are capabilities: error messages show only the start of the
 * upload_id or of the signature.
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:upload_id|X-Goog-Signature)=)([^&]{6})[^&]*/gi, '$1$2…');
}
