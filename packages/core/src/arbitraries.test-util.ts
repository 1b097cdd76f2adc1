// Generators shared by the hash tests. Named *.test-util.ts so that it is left out of the published
// package, yet not picked up by `node --test` as a test file itself.
import fc from 'fast-check';

/** Splits `bytes` at the given points (any naturals; reduced modulo the length) into views. */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const to of [...points, bytes.length]) {
    pieces.push(bytes.subarray(from, to));
    from = to;
  }
  return pieces;
}

/**
 * Random bytes together with the same bytes cut into consecutive pieces. The pieces are views at
 * odd offsets into one buffer, and may be empty, which is what a network stream hands over.
 */
export function cutBytes(
  maxLength = 700,
): fc.Arbitrary<{ bytes: Uint8Array; pieces: Uint8Array[] }> {
  return fc
    .tuple(fc.uint8Array({ maxLength }), fc.array(fc.nat(), { maxLength: 10 }))
    .map(([bytes, cuts]) => ({ bytes, pieces: cutAt(bytes, cuts) }));
}

/** Random bytes and one point to split them at. */
export function bytesAndSplit(maxLength = 700): fc.Arbitrary<{ bytes: Uint8Array; at: number }> {
  return fc
    .uint8Array({ maxLength })
    .chain((bytes) =>
      fc.record({ bytes: fc.constant(bytes), at: fc.integer({ min: 0, max: bytes.length }) }),
    );
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
