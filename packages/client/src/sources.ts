import { SourceError } from './errors.js';

/**
 * A source that can be read again from any offset: a file, a Blob, bytes. Uploads from one hold
 * no chunk in memory; after a failure they re-read it from the server's offset.
 */
export interface SeekableSource {
  readonly size: number;
  /**
   * The bytes [start, end), in pieces. May be called many times. A piece needs to stay valid
   * only until the next one is pulled: a source may read every piece into the same buffer.
   */
  read(start: number, end: number): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /**
   * What identifies this content across a restart of the program (for a file: path, size,
   * modification time…), so that an interrupted upload can resume. Undefined if nothing does.
   */
  readonly fingerprint?: string;
  /** The bytes [start, end) as a Blob, when the source is one (for transports that need it). */
  slice?(start: number, end: number): Blob;
}

/** Everything `upload` takes. Streams (anything but a SeekableSource, Blob or bytes) are read once. */
export type UploadSource =
  | SeekableSource
  | Blob
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

export type OpenedSource =
  | { readonly kind: 'seekable'; readonly source: SeekableSource }
  | { readonly kind: 'stream'; readonly pieces: AsyncIterator<unknown> };

/** Pieces of this size at most are handed to the network, so progress moves smoothly. */
export const PIECE = 1024 * 1024;

export function openSource(source: UploadSource): OpenedSource {
  if (source instanceof Uint8Array) return { kind: 'seekable', source: bytesSource(source) };
  if (source instanceof ArrayBuffer) {
    return { kind: 'seekable', source: bytesSource(new Uint8Array(source)) };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { kind: 'seekable', source: blobSource(source) };
  }
  if (isSeekable(source)) return { kind: 'seekable', source };
  if (isReadableStream(source)) return { kind: 'stream', pieces: readerPieces(source) };
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) {
    return { kind: 'stream', pieces: source[Symbol.asyncIterator]() };
  }
  throw new SourceError(
    'Unsupported source: pass a file path (in Node), a Blob or File, a Uint8Array or ArrayBuffer, a ReadableStream, or an async iterable of Uint8Array.',
  );
}

function isSeekable(source: unknown): source is SeekableSource {
  const s = source as Partial<SeekableSource> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.size === 'number' &&
    typeof s.read === 'function'
  );
}

function isReadableStream(source: unknown): source is ReadableStream<Uint8Array> {
  return (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as ReadableStream).getReader === 'function'
  );
}

/** A web ReadableStream, read through its reader (not every browser makes it async-iterable). */
async function* readerPieces(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Stopping early (an abort, a failure) cancels the stream rather than leaving it locked.
    await reader.cancel().catch(() => undefined);
  }
}

/** A piece from a stream must be bytes: a string would need an encoding nobody chose. */
export function asBytes(piece: unknown): Uint8Array {
  if (piece instanceof Uint8Array) return piece;
  if (piece instanceof ArrayBuffer) return new Uint8Array(piece);
  throw new SourceError(
    `The stream yielded ${piece === null ? 'null' : typeof piece} instead of bytes (Uint8Array); streams of text need encoding first, e.g. with TextEncoderStream.`,
  );
}

export function bytesSource(bytes: Uint8Array, fingerprint?: string): SeekableSource {
  return {
    size: bytes.length,
    fingerprint,
    *read(start, end) {
      for (let at = start; at < end; at += PIECE)
        yield bytes.subarray(at, Math.min(end, at + PIECE));
    },
  };
}

export function blobSource(blob: Blob): SeekableSource {
  const file = blob as Partial<File>;
  const fingerprint =
    typeof file.name === 'string' && typeof file.lastModified === 'number'
      ? `file:${JSON.stringify([file.name, blob.size, file.lastModified, blob.type])}`
      : undefined;
  return {
    size: blob.size,
    fingerprint,
    slice: (start, end) => blob.slice(start, end),
    async *read(start, end) {
      try {
        yield* readerPieces(blob.slice(start, end).stream());
      } catch (error) {
        // A File whose file changed or vanished on disk fails to read (NotReadableError).
        throw new SourceError(`The Blob could not be read: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  };
}
