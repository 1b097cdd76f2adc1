import { setTimeout as sleep } from 'node:timers/promises';
import { protocolError, type ProtocolError } from '@spool/core';
import type { IngestInterrupt } from '../upload/ingest.js';
import type { BodyFault } from './faulty-body.js';
import type { PendingInstruction } from './registry.js';

/**
 * The faults a request may meet past its start, asked for by the handlers at the points where
 * they can happen. Each one takes its instruction only when it fires.
 */
export interface RequestFaults {
  /**
   * The bytes of an upload: stop or stall at an offset (`return-X-after-YK`, `stall-for-…`).
   * `superseded` is the session lease's signal, for uploads that have one.
   */
  upload(superseded?: AbortSignal): IngestInterrupt | undefined;
  /**
   * The answer carrying a completed upload's object: how many bytes of it to send before
   * cutting the connection (`return-broken-stream-final-chunk-after-YB`).
   */
  finalResponse(): number | undefined;
  /** A download of `length` bytes from offset `start` of the object. */
  download(start: number, length: number): BodyFault | undefined;
}

export const noFaults: RequestFaults = {
  upload: () => undefined,
  finalResponse: () => undefined,
  download: () => undefined,
};

/** Reasons GCS gives with the statuses clients retry on; others get a reason that says what happened. */
const REASONS: Record<number, string> = {
  408: 'requestTimeout',
  429: 'rateLimitExceeded',
  500: 'backendError',
  502: 'backendError',
  503: 'backendError',
  504: 'backendError',
};

/** The answer an injected `return-X` gives. */
export function injectedError(status: number, text: string, source: string): ProtocolError {
  return protocolError(
    status,
    REASONS[status] ?? 'injectedFault',
    `Injected fault "${text}" (${source}): this ${status} was asked for; nothing else went wrong.`,
  );
}

/**
 * The faults of a request whose next instruction is `pending` (other than `return-X` and
 * `return-reset-connection`, which happen before the request is served). `fired` is told when
 * the instruction takes effect; `gone` aborts when the client's connection closes.
 */
export function requestFaults(
  pending: PendingInstruction,
  source: string,
  fired: () => void,
  gone: AbortSignal,
): RequestFaults {
  const fire = (): boolean => {
    if (!pending.take()) return false;
    fired();
    return true;
  };
  const instruction = pending.instruction;
  return {
    upload(superseded) {
      if (instruction.kind === 'status-after-bytes') {
        const { status, offset } = instruction;
        return {
          offset,
          reached: () =>
            Promise.resolve(
              fire() ? { answer: injectedError(status, pending.text, source) } : 'continue',
            ),
        };
      }
      if (instruction.kind === 'stall-after-bytes') {
        const { ms, offset } = instruction;
        return {
          offset,
          // As in the testbench, an upload already past the offset does not stall. A newer
          // request on the session ends the stall and the request, bytes past the stall unread;
          // a client that goes away ends it too.
          async reached(stored) {
            if (stored !== offset || !fire()) return 'continue';
            const signal = superseded ? AbortSignal.any([superseded, gone]) : gone;
            await sleep(ms, undefined, { signal }).catch(() => undefined);
            return superseded?.aborted ? 'superseded' : 'continue';
          },
        };
      }
      return undefined;
    },

    finalResponse() {
      if (instruction.kind !== 'cut-final-response' || !fire()) return undefined;
      return instruction.bytes;
    },

    download(start, length) {
      switch (instruction.kind) {
        case 'cut-download':
          return length > instruction.bytes
            ? { at: instruction.bytes, action: { kind: 'cut' }, fire }
            : undefined;
        case 'corrupt-download':
          return length > 0 ? { at: 0, action: { kind: 'corrupt' }, fire } : undefined;
        case 'stall-download':
          if (instruction.fromObjectStart && start !== 0) return undefined;
          return length > instruction.bytes
            ? { at: instruction.bytes, action: { kind: 'stall', ms: instruction.ms }, fire }
            : undefined;
        case 'stall-after-bytes':
          return length > instruction.offset
            ? { at: instruction.offset, action: { kind: 'stall', ms: instruction.ms }, fire }
            : undefined;
        default:
          return undefined;
      }
    },
  };
}
