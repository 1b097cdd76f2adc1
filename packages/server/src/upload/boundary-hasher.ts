import { CHUNK_GRANULARITY, UploadHasher, type HashState } from '@spool/core';

/** A hash state and the offset it belongs to. */
export interface HashPoint {
  readonly offset: number;
  readonly hash: HashState;
}

/** The hash states at the last 256 KiB boundary passed and at the end of the bytes given. */
export interface HashPoints {
  readonly boundary: HashPoint;
  readonly end: HashPoint;
}

/**
 * An upload's hashes that also keep the state at the last 256 KiB boundary, because that is
 * where an interrupted upload is kept to.
 */
export class BoundaryHasher {
  private readonly hasher: UploadHasher;
  private boundary: HashPoint;

  constructor(points: HashPoints) {
    this.hasher = new UploadHasher(points.end.hash);
    this.boundary = points.boundary;
  }

  static at(state: HashState): BoundaryHasher {
    const point = { offset: state.length, hash: state };
    return new BoundaryHasher({ boundary: point, end: point });
  }

  get length(): number {
    return this.hasher.length;
  }

  update(bytes: Uint8Array): void {
    for (let p = 0; p < bytes.length;) {
      const at = this.hasher.length;
      const step = Math.min(bytes.length - p, CHUNK_GRANULARITY - (at % CHUNK_GRANULARITY));
      this.hasher.update(bytes.subarray(p, p + step));
      p += step;
      const reached = this.hasher.length;
      if (reached % CHUNK_GRANULARITY === 0)
        this.boundary = { offset: reached, hash: this.hasher.save() };
    }
  }

  points(): HashPoints {
    return { boundary: this.boundary, end: { offset: this.length, hash: this.hasher.save() } };
  }
}
