import { MAX_OBJECT_SIZE } from '@spool/core';
import type { FaultMethod } from './methods.js';

// Fault-injection instructions in storage-testbench's vocabulary (README, "Fault injection").
// Parsing is strict: an instruction Spool cannot carry out is refused when it is given, so that a
// retry test never waits forever for a fault that cannot happen.

/** Where an instruction came from: the Retry Test API, or a header on one request. */
export type InstructionSource = 'retry-test' | 'header';

export type Instruction =
  /** `return-X`: answer X before doing anything. */
  | { readonly kind: 'status'; readonly status: number }
  /** `return-reset-connection`: a TCP reset instead of an answer. */
  | { readonly kind: 'reset' }
  /** `return-X-after-YK`: keep the upload's bytes up to offset Y exactly, then answer X. */
  | { readonly kind: 'status-after-bytes'; readonly status: number; readonly offset: number }
  /** `stall-for-Ts-after-YK`: pause the upload or download at offset Y. */
  | { readonly kind: 'stall-after-bytes'; readonly ms: number; readonly offset: number }
  /** `return-broken-stream-final-chunk-after-YB`: complete the upload, cut its answer after Y bytes. */
  | { readonly kind: 'cut-final-response'; readonly bytes: number }
  /** `return-broken-stream[-after-YK]`: cut a download after that many bytes of it. */
  | { readonly kind: 'cut-download'; readonly bytes: number }
  /** `return-corrupted-data`: change the first byte of a download. */
  | { readonly kind: 'corrupt-download' }
  /** `stall-always`, `stall-at-256KiB`: pause a download at that many bytes of it. */
  | {
      readonly kind: 'stall-download';
      readonly ms: number;
      readonly bytes: number;
      /** Only when the download starts at the object's first byte (as the testbench's 256 KiB stall). */
      readonly fromObjectStart: boolean;
    };

export type ParsedInstruction =
  | { readonly ok: true; readonly instruction: Instruction }
  | { readonly ok: false; readonly problem: string };

const KiB = 1024;
/** The testbench's fixed stall for `stall-always` and `stall-at-256KiB`. */
const DOWNLOAD_STALL_MS = 10_000;
/** Longest stall an instruction may ask for: long enough for any client timeout, yet bounded. */
export const MAX_STALL_SECONDS = 3600;

const SUPPORTED =
  'return-X, return-reset-connection, return-X-after-YK, stall-for-Ts-after-YK, ' +
  'return-broken-stream-final-chunk-after-YB, return-broken-stream, return-broken-stream-after-YK, ' +
  'return-corrupted-data, stall-always and stall-at-256KiB';

/** Testbench instructions Spool knowingly does not carry out, and why. */
const UNSUPPORTED: readonly [RegExp, string][] = [
  [/^redirect-/, 'it is for gRPC, and Spool serves the JSON API over HTTP only'],
  [/^return-\d+-if-dp-enforced$/, 'it is for gRPC DirectPath, which Spool does not serve'],
  [/^return-unreachable-buckets-/, 'Spool has no unreachable buckets to report'],
  [/^return-\d+-after-\d+K\/retry-\d+$/, 'use return-X-after-YK in a retry test instead'],
  [/^(inject-upload-data-error|break-after-256K)$/, 'it is an undocumented testbench behaviour'],
];

/** Parses one instruction; `source` matters only for return-broken-stream, as in the testbench. */
export function parseInstruction(text: string, source: InstructionSource): ParsedInstruction {
  const shown = JSON.stringify(text.slice(0, 100));
  const ok = (instruction: Instruction): ParsedInstruction => ({ ok: true, instruction });
  const bad = (why: string): ParsedInstruction => ({
    ok: false,
    problem: `Invalid fault injection instruction ${shown}: ${why}.`,
  });
  let m: RegExpExecArray | null;

  if (text === 'return-reset-connection') return ok({ kind: 'reset' });
  // The testbench cuts after 4 bytes in a retry test, and after 1 MiB when asked by header.
  if (text === 'return-broken-stream')
    return ok({ kind: 'cut-download', bytes: source === 'retry-test' ? 4 : 1024 * KiB });
  if (text === 'return-corrupted-data') return ok({ kind: 'corrupt-download' });
  if (text === 'stall-always')
    return ok({ kind: 'stall-download', ms: DOWNLOAD_STALL_MS, bytes: 0, fromObjectStart: false });
  if (text === 'stall-at-256KiB') {
    return ok({
      kind: 'stall-download',
      ms: DOWNLOAD_STALL_MS,
      bytes: 256 * KiB,
      fromObjectStart: true,
    });
  }
  if ((m = /^return-(\d{1,15})$/.exec(text))) {
    const status = httpStatus(m[1]!);
    return status === undefined ? bad(STATUS_RANGE) : ok({ kind: 'status', status });
  }
  if ((m = /^return-(\d{1,15})-after-(\d{1,15})K$/.exec(text))) {
    const status = httpStatus(m[1]!);
    const offset = kibibytes(m[2]!);
    if (status === undefined) return bad(STATUS_RANGE);
    if (offset === undefined) return bad(OFFSET_RANGE);
    return ok({ kind: 'status-after-bytes', status, offset });
  }
  if ((m = /^stall-for-(\d{1,15})s-after-(\d{1,15})K$/.exec(text))) {
    const seconds = Number(m[1]);
    const offset = kibibytes(m[2]!);
    if (seconds > MAX_STALL_SECONDS)
      return bad(`a stall may last at most ${MAX_STALL_SECONDS} seconds`);
    if (offset === undefined) return bad(OFFSET_RANGE);
    return ok({ kind: 'stall-after-bytes', ms: seconds * 1000, offset });
  }
  if ((m = /^return-broken-stream-final-chunk-after-(\d{1,15})B$/.exec(text))) {
    const bytes = Number(m[1]);
    if (bytes > MAX_OBJECT_SIZE) return bad(OFFSET_RANGE);
    return ok({ kind: 'cut-final-response', bytes });
  }
  if ((m = /^return-broken-stream-after-(\d{1,15})K$/.exec(text))) {
    const bytes = kibibytes(m[1]!);
    return bytes === undefined ? bad(OFFSET_RANGE) : ok({ kind: 'cut-download', bytes });
  }
  const unsupported = UNSUPPORTED.find(([pattern]) => pattern.test(text));
  if (unsupported) return bad(`Spool does not support it (${unsupported[1]})`);
  return bad(`Spool understands ${SUPPORTED}`);
}

const STATUS_RANGE = 'X must be an HTTP error status, from 400 to 599';
const OFFSET_RANGE = `the offset must be at most ${MAX_OBJECT_SIZE / KiB}K (5 TiB)`;

function httpStatus(digits: string): number | undefined {
  const status = Number(digits);
  return status >= 400 && status <= 599 ? status : undefined;
}

function kibibytes(digits: string): number | undefined {
  const bytes = Number(digits) * KiB;
  return bytes <= MAX_OBJECT_SIZE ? bytes : undefined;
}

/**
 * Whether an instruction can ever fire on requests of `method`. The ones about upload bytes
 * concern `storage.objects.insert`, the ones about download bytes `storage.objects.get`.
 */
export function appliesTo(instruction: Instruction, method: FaultMethod): boolean {
  switch (instruction.kind) {
    case 'status':
    case 'reset':
      return true;
    case 'status-after-bytes':
    case 'cut-final-response':
      return method === 'storage.objects.insert';
    case 'stall-after-bytes':
      return method === 'storage.objects.insert' || method === 'storage.objects.get';
    case 'cut-download':
    case 'corrupt-download':
    case 'stall-download':
      return method === 'storage.objects.get';
  }
}

/** The methods an instruction applies to, for error messages. */
export function methodsFor(instruction: Instruction): string {
  switch (instruction.kind) {
    case 'status':
    case 'reset':
      return 'any method';
    case 'status-after-bytes':
    case 'cut-final-response':
      return 'storage.objects.insert (the bytes of an upload)';
    case 'stall-after-bytes':
      return 'storage.objects.insert or storage.objects.get (the bytes of an upload or a download)';
    case 'cut-download':
    case 'corrupt-download':
    case 'stall-download':
      return 'storage.objects.get (the bytes of a download)';
  }
}
