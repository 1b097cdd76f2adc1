import { CHUNK_GRANULARITY, MAX_OBJECT_SIZE } from './constants.js';
import { protocolError, type ProtocolError } from './protocol-error.js';

// Wording that real GCS uses is reproduced exactly, double spaces included: clients match on it
// (Java's upload failure scenarios look for "Content-Range" in a text/plain 503, Node's tests for
// "Provided CRC32C"). Messages GCS does not define say what happened and what to do next.

export const contentRangeUnparsable = (): ProtocolError =>
  protocolError(400, 'invalid', 'Failed to parse Content-Range header.', 'text');

export const chunkTooSmall = (received: number): ProtocolError =>
  protocolError(
    400,
    'invalid',
    `Invalid request.  The number of bytes uploaded is required to be equal or greater than ${CHUNK_GRANULARITY}, except for the final request (it's recommended to be the exact multiple of ${CHUNK_GRANULARITY}).  The received request contained ${received} bytes, which does not meet this requirement.`,
    'text',
  );

export const offsetBeyondPersisted = (offset: number, persisted: number): ProtocolError =>
  protocolError(
    503,
    'backendError',
    `Invalid request.  According to the Content-Range header, the upload offset is ${offset} byte(s), which exceeds already uploaded size of ${persisted} byte(s).`,
    'text',
  );

export const crc32cMismatch = (provided: string, calculated: string): ProtocolError =>
  protocolError(
    400,
    'invalid',
    `Provided CRC32C "${provided}" doesn't match calculated CRC32C "${calculated}".`,
  );

export const md5Mismatch = (provided: string, calculated: string): ProtocolError =>
  protocolError(
    400,
    'invalid',
    `Provided MD5 hash "${provided}" doesn't match calculated MD5 hash "${calculated}".`,
  );

export const preconditionFailed = (): ProtocolError =>
  protocolError(
    412,
    'conditionNotMet',
    'At least one of the pre-conditions you specified did not hold.',
    'json',
    'PreconditionFailed',
  );

export const sizeMismatchDeclared = (size: number, declared: number): ProtocolError =>
  protocolError(
    400,
    'invalid',
    `Invalid request.  The upload ends at ${size} byte(s), but X-Upload-Content-Length declared ${declared} byte(s) when the upload was started. Send exactly the declared number of bytes, or start a new upload.`,
    'text',
  );

export const totalChanged = (total: number, earlier: number): ProtocolError =>
  protocolError(
    400,
    'invalid',
    `Invalid request.  The Content-Range header gives a total size of ${total} byte(s), but an earlier request gave ${earlier} byte(s). The total size of an upload cannot change.`,
    'text',
  );

export const totalBelowPersisted = (total: number, persisted: number): ProtocolError =>
  protocolError(
    400,
    'invalid',
    `Invalid request.  The Content-Range header gives a total size of ${total} byte(s), which is less than the ${persisted} byte(s) already uploaded.`,
    'text',
  );

export const tooLarge = (size: number, limit = MAX_OBJECT_SIZE): ProtocolError =>
  limit < MAX_OBJECT_SIZE
    ? protocolError(
        413,
        'uploadTooLarge',
        `The upload size of ${size} byte(s) exceeds this server's maximum object size of ${limit} byte(s) (spool serve --max-object-size).`,
        'json',
        'EntityTooLarge',
      )
    : protocolError(
        400,
        'invalid',
        `Invalid request.  The upload size of ${size} byte(s) exceeds the maximum object size of ${MAX_OBJECT_SIZE} byte(s) (5 TiB).`,
        'text',
      );

export const bodyLengthMismatch = (received: number, announced: number): ProtocolError =>
  protocolError(
    400,
    'invalid',
    `Invalid request.  The request body contained ${received} byte(s), but the Content-Range header announced ${announced} byte(s). Nothing from this request was stored; resend the chunk with matching headers.`,
    'text',
  );

export const queryWithBody = (): ProtocolError =>
  protocolError(
    400,
    'invalid',
    'Invalid request.  A Content-Range of the form "bytes */N" asks for the upload status and must have an empty body.',
    'text',
  );

export const sessionNotFound = (): ProtocolError =>
  protocolError(
    404,
    'notFound',
    'No such upload session: the upload ID is unknown or has expired (sessions last a week). Start a new upload.',
    'json',
    'NoSuchUpload',
  );

export const sessionCancelled = (): ProtocolError =>
  protocolError(
    410,
    'gone',
    'This upload session was cancelled with a DELETE request. Start a new upload.',
  );

export const sessionSuperseded = (persisted: number): ProtocolError =>
  protocolError(
    503,
    'backendError',
    `This request was stopped because a newer request arrived on the same upload session; ${persisted} byte(s) are stored. Query the session (Content-Range: bytes */*) before sending more.`,
    'text',
  );

export const bucketNotFound = (): ProtocolError =>
  protocolError(404, 'notFound', 'The specified bucket does not exist.', 'json', 'NoSuchBucket');

export const objectNotFound = (bucket: string, name: string): ProtocolError =>
  protocolError(404, 'notFound', `No such object: ${bucket}/${name}`, 'json', 'NoSuchKey');
