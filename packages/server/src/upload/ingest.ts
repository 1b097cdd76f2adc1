import { CHUNK_GRANULARITY, type HashState, type ProtocolError, type WritePlan } from '@spool/core';
import type { BodyEnd, ChunkSource } from '../http/body.js';
import type { BlobState, BlobWriter } from '../store/types.js';
import { HashStream } from './hash-offload.js';
import type { HashPoints } from './boundary-hasher.js';

/**
 * Make progress durable during a long request at least this often (bytes, milliseconds). A
 * writer that checkpoints in the background takes small steps: they keep the commit that ends a
 * request short, and after a cut the client's status query waits for that commit (scenario 5 of
 * the benchmarks: 64 MiB steps made a cut cost 30-50 ms, 8 MiB ones about a third of that). A
 * writer that holds the body still for a checkpoint (S3, until the part is uploaded) takes large
 * ones (8 MiB steps there: 0.65 of the AWS SDK's speed instead of 0.92).
 */
const CHECKPOINT_BYTES = { background: 8 * 1024 * 1024, pausing: 64 * 1024 * 1024 };
const CHECKPOINT_MS = 10_000;

export interface IngestResult {
  /** Body bytes that arrived, resent (skipped) ones included. */
  readonly received: number;
  /**
   * How the body stopped; 'overrun' when it went past the plan's limit, 'stopped' when the
   * interrupt stopped it (then `received` ends exactly at the interrupt's offset).
   */
  readonly end: BodyEnd | 'overrun' | 'stopped';
  /** With 'stopped': the answer the interrupt asked for. */
  readonly answer?: ProtocolError;
  /** Bytes written to the blob: the session's stored size plus the new bytes. */
  readonly written: number;
  /** The hash state after `offset` bytes, for the offsets a settlement can keep. */
  hashAt(offset: number): HashState;
}

export interface IngestOptions {
  /** Stored size and hash state before this request. */
  readonly persisted: number;
  readonly hash: HashState;
  /**
   * Called while a long body is still arriving, with a 256 KiB-aligned offset that has just been
   * made durable in the blob (and where it is), so the session record can say so too.
   */
  readonly checkpoint?: (
    persisted: number,
    hash: HashState,
    blobState: BlobState | undefined,
  ) => Promise<void>;
  /** Something to do at one offset of the upload (fault injection). */
  readonly interrupt?: IngestInterrupt;
}

/** A pause or a stop at an absolute offset of the upload. */
export interface IngestInterrupt {
  readonly offset: number;
  /**
   * Called once: when the stored size reaches `offset`, or before the body is read if it is there
   * already (`stored` says where it is).
   */
  reached(stored: number): Promise<InterruptDecision>;
}

/**
 * Go on (after a pause, for instance); stop right there with an answer, keeping every byte before
 * (unaligned); or end as a superseded request does (a newer request arrived during a pause).
 */
export type InterruptDecision = 'continue' | 'superseded' | { readonly answer: ProtocolError };

/**
 * Streams a request body into a session's blob: skips bytes already stored, hashes the new ones,
 * and keeps the hash state at the last 256 KiB boundary so that an interrupted body can be kept
 * up to that boundary without re-reading anything.
 */
export async function ingest(
  body: ChunkSource,
  writer: BlobWriter,
  plan: WritePlan,
  options: IngestOptions,
): Promise<IngestResult> {
  // Bytes are hashed on the hashing thread; it keeps the state at the last 256 KiB boundary.
  const hasher = HashStream.open(options.hash);
  let received = 0;
  let stored = options.persisted;
  let boundary = options.persisted;
  let checkpointed = options.persisted;
  let checkpointTime = Date.now();
  let inFlight: Promise<unknown> | undefined;
  let checkpointFailure: Error | undefined;
  let pumping = true;
  /** Bytes are between the hasher and `stored`: no snapshot may be asked for now. */
  let taking = false;
  let end: IngestResult['end'] = 'interrupted';
  let decision: InterruptDecision = 'continue';
  let interrupt = options.interrupt;

  const take = async (data: Buffer): Promise<void> => {
    taking = true;
    try {
      await hasher.update(data);
      await writer.write(data);
    } finally {
      taking = false;
    }
    stored += data.length;
    boundary = Math.max(boundary, stored - (stored % CHUNK_GRANULARITY));
  };

  /** How far apart checkpoints are for this writer (see CHECKPOINT_BYTES). */
  const step = writer.concurrentCheckpoints
    ? CHECKPOINT_BYTES.background
    : CHECKPOINT_BYTES.pausing;
  /**
   * Makes progress durable during a long request. A checkpoint that is due waits for an offset
   * the writer can commit without extra writes (S3: the end of a part), for as long again at
   * most. A writer that allows it syncs in the background while the body keeps flowing, one
   * checkpoint at a time; the next one is considered as soon as it ends, even if the body paused.
   */
  const checkpointIfDue = async (): Promise<void> => {
    const checkpoint = options.checkpoint;
    if (!checkpoint || inFlight || checkpointFailure) return;
    // Every byte the request announced is in: its own commit follows at once.
    if (plan.exact && stored >= plan.limit) return;
    const bytes = boundary - checkpointed;
    const ms = Date.now() - checkpointTime;
    const due =
      bytes > 0 &&
      (((bytes >= step || ms >= CHECKPOINT_MS) && (writer.cheapAt?.(boundary) ?? true)) ||
        bytes >= 2 * step ||
        ms >= 2 * CHECKPOINT_MS);
    if (!due) return;
    const at = boundary;
    checkpointed = at;
    checkpointTime = Date.now();
    // Asked now, the hashing thread answers for exactly the bytes given so far.
    const snapshot = hasher.snapshot();
    const done = (async () => {
      const { boundary: hashed } = await snapshot;
      if (hashed.offset !== at) throw new Error(`hash state at ${hashed.offset}, expected ${at}`);
      const blobState = await writer.commit(at, false);
      await checkpoint(at, hashed.hash, blobState);
    })();
    if (!writer.concurrentCheckpoints) return done;
    inFlight = done.then(
      () => {
        inFlight = undefined;
        // In the middle of a take, the pump asks again once `stored` has caught up.
        if (pumping && !taking) return checkpointIfDue();
      },
      (error: unknown) => {
        inFlight = undefined;
        checkpointFailure = error instanceof Error ? error : new Error(String(error));
      },
    );
  };

  if (interrupt && stored >= interrupt.offset) {
    decision = await interrupt.reached(stored);
    interrupt = undefined;
  }
  const pump = async (): Promise<void> => {
    while (true) {
      if (checkpointFailure) {
        body.stop('interrupted');
        throw checkpointFailure;
      }
      if (decision !== 'continue') {
        body.stop('interrupted');
        end = decision === 'superseded' ? 'superseded' : 'stopped';
        break;
      }
      const chunk = await body.next();
      if (typeof chunk === 'string') {
        end = chunk;
        break;
      }
      const chunkStart = plan.start + received;
      received += chunk.length;
      const chunkEnd = plan.start + received;
      if (chunkEnd > plan.limit) {
        body.stop('interrupted');
        end = 'overrun';
        break;
      }
      if (chunkEnd <= stored) continue;
      let data = chunkStart < stored ? chunk.subarray(stored - chunkStart) : chunk;
      if (interrupt && stored + data.length >= interrupt.offset) {
        const before = interrupt.offset - stored;
        await take(data.subarray(0, before));
        data = data.subarray(before);
        decision = await interrupt.reached(stored);
        interrupt = undefined;
        // An end here keeps the body up to here: what arrived past it does not count as received.
        if (decision !== 'continue') {
          received -= data.length;
          continue;
        }
      }
      await take(data);

      await checkpointIfDue();
    }
  };
  let hashed: HashPoints;
  try {
    await pump();
  } finally {
    // Whatever happens next (the final commit, a settlement, an abandon) comes after the
    // checkpoint in flight, which never rejects: its failure is kept.
    pumping = false;
    while (inFlight) await inFlight;
  }
  try {
    if (checkpointFailure) throw checkpointFailure;
    hashed = await hasher.snapshot();
  } finally {
    hasher.close();
  }
  return {
    received,
    end,
    ...(typeof decision === 'object' && { answer: decision.answer }),
    written: stored,
    hashAt(offset: number): HashState {
      if (offset === hashed.end.offset) return hashed.end.hash;
      if (offset === hashed.boundary.offset) return hashed.boundary.hash;
      if (offset === options.persisted) return options.hash;
      throw new Error(`no hash state kept for offset ${offset}`);
    },
  };
}

/**
 * The final commit of what ingest wrote. A write that failed after the body ended (a full disk)
 * surfaces here: the writer is abandoned, so that bytes never acknowledged do not keep their space.
 */
export async function commitFinal(
  writer: BlobWriter,
  offset: number,
): Promise<BlobState | undefined> {
  try {
    return await writer.commit(offset, true);
  } catch (error) {
    await writer.abandon();
    throw error;
  }
}
