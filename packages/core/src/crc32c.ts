// CRC32C (Castagnoli), the checksum GCS keeps for every object. Slice-by-8: eight table lookups per
// eight bytes, about 1.2 GB/s in V8. The running value is the whole state, so saving and restoring it
// is free.

const POLYNOMIAL = 0x82f63b78;
const TABLES = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
  TABLES[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLES[n]!;
  for (let t = 1; t < 8; t++) {
    c = TABLES[c & 0xff]! ^ (c >>> 8);
    TABLES[t * 256 + n] = c;
  }
}

/** Extends a CRC32C (of the bytes before) over `bytes`. */
export type Crc32cKernel = (crc: number, bytes: Uint8Array) => number;

/** The portable kernel, in plain JavaScript: runs anywhere, browsers included. */
export function crc32cPortable(crc: number, bytes: Uint8Array): number {
  const t = TABLES;
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a =
      c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The 4-byte big-endian form GCS base64-encodes in `crc32c` fields and X-Goog-Hash. */
export function crc32cBytes(crc: number): Uint8Array {
  return new Uint8Array([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]);
}

let kernel: Crc32cKernel = crc32cPortable;

/**
 * Lets a platform with a faster CRC32C provide it (Node.js uses a native one: about 10 GB/s
 * against 1.2 GB/s). The kernel must compute exactly what `crc32cPortable` does.
 */
export function useCrc32cKernel(faster: Crc32cKernel): void {
  kernel = faster;
}

/** Extends `crc` (the CRC32C of the bytes before) over `bytes`. */
export function crc32cUpdate(crc: number, bytes: Uint8Array): number {
  return kernel(crc, bytes);
}
