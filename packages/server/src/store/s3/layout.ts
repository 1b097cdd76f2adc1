import type { BlobState } from '../types.js';

/** A part of the session's multipart upload, uploaded and listed in the session record. */
export interface Part {
  readonly size: number;
  readonly etag: string;
}

/** A small S3 object holding bytes that do not fill a part yet; `size` of its bytes count. */
export interface Piece {
  readonly key: string;
  readonly size: number;
}

/**
 * Where a session's bytes are in S3: parts 1…n of the multipart upload, then pieces, in order.
 * The session record holds it (as its blob state), so it changes in the same commit as the
 * number of bytes the record acknowledges; whatever S3 holds beyond it is a leftover.
 */
export interface Layout {
  /** The multipart upload, once it has a part. */
  readonly uploadId: string | undefined;
  readonly parts: readonly Part[];
  readonly pieces: readonly Piece[];
  /** The size of the part the pieces belong to, fixed when its first piece was stored. */
  readonly partSize: number | undefined;
}

export const emptyLayout: Layout = {
  uploadId: undefined,
  parts: [],
  pieces: [],
  partSize: undefined,
};

export function partsSize(layout: Layout): number {
  return layout.parts.reduce((n, p) => n + p.size, 0);
}

export function layoutSize(layout: Layout): number {
  return partsSize(layout) + layout.pieces.reduce((n, p) => n + p.size, 0);
}

/**
 * The pieces, starting at byte `from`, cut to end at `offset`: a piece past it is dropped, one
 * across it counts only up to it. (A commit may acknowledge less than the pieces hold.)
 */
export function clipPieces(pieces: readonly Piece[], from: number, offset: number): Piece[] {
  const out: Piece[] = [];
  let at = from;
  for (const piece of pieces) {
    if (at >= offset) break;
    const size = Math.min(piece.size, offset - at);
    out.push(size === piece.size ? piece : { key: piece.key, size });
    at += piece.size;
  }
  return out;
}

export function sameLayout(a: Layout, b: Layout): boolean {
  return (
    a.uploadId === b.uploadId &&
    a.partSize === b.partSize &&
    a.parts.length === b.parts.length &&
    a.parts.every((p, i) => p.etag === b.parts[i]!.etag && p.size === b.parts[i]!.size) &&
    a.pieces.length === b.pieces.length &&
    a.pieces.every((p, i) => p.key === b.pieces[i]!.key && p.size === b.pieces[i]!.size)
  );
}

/** The session record's form: parts and pieces as pairs, to keep records of big uploads small. */
export function layoutToState(layout: Layout): BlobState {
  return {
    s3: 1,
    ...(layout.uploadId !== undefined && { uploadId: layout.uploadId }),
    parts: layout.parts.map((p) => [p.size, p.etag]),
    pieces: layout.pieces.map((p) => [p.size, p.key]),
    ...(layout.partSize !== undefined && { partSize: layout.partSize }),
  };
}

export function layoutFromState(state: BlobState | undefined): Layout {
  if (state === undefined) return emptyLayout;
  const { s3, uploadId, parts, pieces, partSize } = state;
  if (
    s3 !== 1 ||
    (uploadId !== undefined && typeof uploadId !== 'string') ||
    (partSize !== undefined && !(Number.isSafeInteger(partSize) && (partSize as number) > 0)) ||
    !isPairs(parts) ||
    !isPairs(pieces)
  ) {
    throw new Error(`The session's blob state is not an S3 layout: ${JSON.stringify(state)}`);
  }
  return {
    uploadId,
    parts: parts.map(([size, etag]) => ({ size, etag })),
    pieces: pieces.map(([size, key]) => ({ size, key })),
    partSize: partSize as number | undefined,
  };
}

function isPairs(value: unknown): value is [number, string][] {
  return (
    Array.isArray(value) &&
    value.every(
      (v) =>
        Array.isArray(v) &&
        v.length === 2 &&
        Number.isSafeInteger(v[0]) &&
        (v[0] as number) >= 0 &&
        typeof v[1] === 'string',
    )
  );
}
