import { protocolError, type ProtocolError } from '@spool/core';
import { isBackendUnavailable } from '../store/backend-errors.js';

/** A request that cannot be served, with the answer it gets. */
export class HttpError extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
}

export function badRequest(message: string, reason = 'invalid'): HttpError {
  return new HttpError(protocolError(400, reason, message));
}

/** Maps storage failures that are the environment's fault, not a bug, to retryable answers. */
export function environmentError(error: unknown): ProtocolError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return protocolError(
      503,
      'backendError',
      'The server is out of storage space; nothing from this request past the last acknowledged byte was kept. Retry later.',
    );
  }
  if (code === 'EMFILE' || code === 'ENFILE') {
    return protocolError(
      503,
      'backendError',
      'The server has too many open files right now. Retry later.',
    );
  }
  if (isBackendUnavailable(error)) {
    return protocolError(
      503,
      'backendError',
      'The storage behind this server (PostgreSQL or S3) is unavailable or failing; nothing from this request past the last acknowledged byte was kept. Retry later.',
    );
  }
  return undefined;
}

/** A request body that arrived slower than the server's minimum rate (spool serve --min-body-rate). */
export function bodyTooSlow(minBytesPerSecond: number, stored: number | undefined): ProtocolError {
  const kept =
    stored === undefined
      ? 'nothing from it was stored'
      : `${stored} byte(s) of the upload are stored`;
  return protocolError(
    408,
    'requestTimeout',
    `The request body arrived slower than ${minBytesPerSecond} bytes a second, so the server stopped reading it; ${kept}. Resume from there.`,
    'json',
    'RequestTimeout',
  );
}
