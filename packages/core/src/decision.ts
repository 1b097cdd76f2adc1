import { CHUNK_GRANULARITY, MAX_OBJECT_SIZE, alignDown } from './constants.js';
import { parseContentRange } from './content-range.js';
import {
  bodyLengthMismatch,
  chunkTooSmall,
  offsetBeyondPersisted,
  queryWithBody,
  sessionCancelled,
  sessionNotFound,
  sizeMismatchDeclared,
  tooLarge,
  totalBelowPersisted,
  totalChanged,
} from './messages.js';
import type { ProtocolError } from './protocol-error.js';

// The server's decision table for requests on a resumable session (docs/protocol.md, and
// ../research/gcs-protocol.md Appendix A). A request body arrives as a stream that may stop at
// any byte, so a decision comes in two steps: `decideChunk` looks at the session and the headers
// before the body is read; for a write, `settleWrite` looks at how much of the body arrived.

export type SessionStatus = 'active' | 'final' | 'failed' | 'cancelled';

/** What the decision table needs to know about a session. */
export interface SessionView {
  readonly status: SessionStatus;
  /** Bytes stored durably: P. */
  readonly persisted: number;
  /** The object size, once a Content-Range has given it. */
  readonly total: number | undefined;
  /** X-Upload-Content-Length from the initiation. */
  readonly declaredSize: number | undefined;
  readonly expiresAt: number;
}

export interface ChunkRequest {
  readonly contentRange: string | undefined;
  /** Undefined when the body has no Content-Length (chunked transfer encoding). */
  readonly contentLength: number | undefined;
}

/**
 * How to take in a request body: discard the first `skip` bytes (resent bytes already stored),
 * store the rest from offset `start + skip`, never past `limit`.
 */
export interface WritePlan {
  /** Offset of the body's first byte. */
  readonly start: number;
  readonly skip: number;
  /** The body may not reach past this offset. */
  readonly limit: number;
  /** The body must end exactly at `limit` (its length is announced). */
  readonly exact: boolean;
  /** The offset at which the object is complete, or "wherever the body ends". */
  readonly completesAt: number | 'end-of-body' | undefined;
  /** The object size this request announces, to remember for later requests. */
  readonly total: number | undefined;
}

export type ChunkDecision =
  /** The session is final or failed: answer as before (the object, or the stored error). */
  | { readonly kind: 'replay' }
  | { readonly kind: 'reject'; readonly error: ProtocolError; readonly failSession: boolean }
  /** A status query: answer 308 with what is stored. */
  | { readonly kind: 'status' }
  /** Every byte is stored and the request says so: complete the object now. */
  | { readonly kind: 'finalize'; readonly size: number }
  | { readonly kind: 'write'; readonly plan: WritePlan };

/** `maxObjectSize` is the server's limit (5 TiB, GCS's, unless the operator set a lower one). */
export function decideChunk(
  session: SessionView,
  request: ChunkRequest,
  now: number,
  maxObjectSize = MAX_OBJECT_SIZE,
): ChunkDecision {
  if (now >= session.expiresAt) return reject(sessionNotFound());
  if (session.status === 'final' || session.status === 'failed') return { kind: 'replay' };
  if (session.status === 'cancelled') return reject(sessionCancelled());

  // No Content-Range: the body is the whole object.
  const header =
    request.contentRange ??
    `bytes 0-*/${request.contentLength === undefined ? '*' : request.contentLength}`;
  const parsed = parseContentRange(header);
  if (!parsed.ok) return reject(parsed.error);
  const range = parsed.value;
  const P = session.persisted;

  if (range.kind === 'query') {
    if (request.contentLength !== undefined && request.contentLength > 0)
      return reject(queryWithBody());
    if (range.total === undefined || range.total !== P) return { kind: 'status' };
    // Finalizing at P must agree with a total an earlier chunk announced, as a data chunk must.
    if (session.total !== undefined && session.total !== P) {
      return reject(totalChanged(P, session.total));
    }
    if (session.declaredSize !== undefined && session.declaredSize !== P) {
      return reject(sizeMismatchDeclared(P, session.declaredSize));
    }
    return { kind: 'finalize', size: P };
  }

  const { first, last, total } = range;
  const claimed = Math.max(total ?? 0, last === undefined ? first : last + 1);
  if (claimed > maxObjectSize) return reject(tooLarge(claimed, maxObjectSize));
  if (first > P) return reject(offsetBeyondPersisted(first, P));
  if (total !== undefined) {
    if (session.total !== undefined && total !== session.total)
      return reject(totalChanged(total, session.total));
    if (session.declaredSize !== undefined && total !== session.declaredSize) {
      return reject(sizeMismatchDeclared(total, session.declaredSize));
    }
    if (total < P) return reject(totalBelowPersisted(total, P));
  }
  const knownTotal = total ?? session.total ?? session.declaredSize;
  const overTotal = (end: number): ProtocolError | undefined => {
    if (knownTotal === undefined)
      return end > maxObjectSize ? tooLarge(end, maxObjectSize) : undefined;
    if (end <= knownTotal) return undefined;
    return session.declaredSize !== undefined
      ? sizeMismatchDeclared(end, session.declaredSize)
      : totalChanged(end, knownTotal);
  };

  let plan: WritePlan;
  if (last !== undefined) {
    const end = last + 1;
    const problem = overTotal(end);
    if (problem) return reject(problem);
    const completesAt = knownTotal === end ? end : undefined;
    plan = { start: first, skip: P - first, limit: end, exact: true, completesAt, total };
  } else if (knownTotal !== undefined) {
    // `bytes a-*/N`: the body is the rest of the object. With `/*` and a declared size, the body
    // may also stop short: then it is an ordinary non-final chunk.
    plan = {
      start: first,
      skip: P - first,
      limit: knownTotal,
      exact: total !== undefined,
      completesAt: knownTotal,
      total,
    };
  } else {
    plan = {
      start: first,
      skip: P - first,
      limit: maxObjectSize,
      exact: false,
      completesAt: 'end-of-body',
      total,
    };
  }
  if (plan.skip < 0) throw new Error('unreachable: first <= persisted was checked');

  if (request.contentLength !== undefined) {
    const end = first + request.contentLength;
    if (plan.exact && end !== plan.limit) {
      return reject(bodyLengthMismatch(request.contentLength, plan.limit - first));
    }
    const problem = overTotal(end);
    if (problem) return reject(problem);
  }

  // A non-final chunk shorter than 256 KiB fails the session for good, as it does on GCS.
  if (
    last !== undefined &&
    plan.completesAt === undefined &&
    last - first + 1 < CHUNK_GRANULARITY
  ) {
    return { kind: 'reject', error: chunkTooSmall(last - first + 1), failSession: true };
  }
  return { kind: 'write', plan };
}

export type Settlement =
  /** Store up to `persisted` and answer 308. */
  | { readonly kind: 'persist'; readonly persisted: number }
  /** Every byte of the object has arrived: validate and complete it at this size. */
  | { readonly kind: 'complete'; readonly size: number }
  /** The request was malformed after all; keep nothing from it. */
  | { readonly kind: 'reject'; readonly error: ProtocolError };

/**
 * The body has ended (`bodyComplete`) or stopped early (connection lost, superseded, timed out)
 * after `received` bytes, skipped ones included. An incomplete object keeps only a 256 KiB-aligned
 * prefix, as GCS does; `keepUnaligned` keeps every received byte instead (fault injection, which
 * deliberately leaves odd offsets as storage-testbench does).
 */
export function settleWrite(
  session: Pick<SessionView, 'persisted'>,
  plan: WritePlan,
  received: number,
  bodyComplete: boolean,
  keepUnaligned = false,
): Settlement {
  const reached = plan.start + received;
  if (reached > plan.limit)
    return { kind: 'reject', error: bodyLengthMismatch(received, plan.limit - plan.start) };
  if (bodyComplete) {
    if (plan.exact && reached !== plan.limit) {
      return { kind: 'reject', error: bodyLengthMismatch(received, plan.limit - plan.start) };
    }
    if (plan.completesAt === 'end-of-body') {
      if (reached < session.persisted)
        return { kind: 'reject', error: totalBelowPersisted(reached, session.persisted) };
      return { kind: 'complete', size: reached };
    }
    if (plan.completesAt === reached) return { kind: 'complete', size: reached };
  }
  const kept = keepUnaligned ? reached : alignDown(reached);
  return { kind: 'persist', persisted: Math.max(session.persisted, kept) };
}

/** Status line and headers of a "Resume Incomplete" answer. */
export function incompleteResponse(
  persisted: number,
  no308: boolean,
): { status: number; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (persisted > 0) headers['range'] = `bytes=0-${persisted - 1}`;
  // Go's HTTP stack treats 308 as a redirect; such clients ask for a 200 that says 308 in a header.
  if (no308) return { status: 200, headers: { ...headers, 'x-http-status-code-override': '308' } };
  return { status: 308, headers };
}

function reject(error: ProtocolError): ChunkDecision {
  return { kind: 'reject', error, failSession: false };
}
