import { md5Blocks } from './md5-rounds.js';

/** Everything an MD5 computation needs to continue later: serialisable, restorable. */
export interface Md5State {
  /** A, B, C, D as signed 32-bit integers. */
  readonly words: readonly [number, number, number, number];
  /** Bytes hashed so far. */
  readonly length: number;
  /** The bytes after the last whole 64-byte block (fewer than 64). */
  readonly tail: Uint8Array;
}

const INITIAL: Md5State['words'] = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476];

/**
 * Incremental MD5 whose state can be saved and restored, which Node's crypto cannot do: a server
 * restart or a client resume continues the hash instead of re-reading the object.
 */
export class Md5 {
  private readonly words = new Int32Array(4);
  private readonly block = new Uint8Array(64);
  private readonly blockView = new DataView(this.block.buffer);
  private buffered = 0;
  private total = 0;

  constructor(state?: Md5State) {
    const s = state ?? { words: INITIAL, length: 0, tail: new Uint8Array(0) };
    if (!Number.isSafeInteger(s.length) || s.length < 0 || s.tail.length !== s.length % 64) {
      throw new RangeError('Invalid MD5 state: the tail must hold length % 64 bytes.');
    }
    // Int32Array.set would silently coerce anything else (NaN, fractions, strings) into a wrong hash.
    if (
      s.words.length !== 4 ||
      !s.words.every((w) => Number.isInteger(w) && w >= -(2 ** 31) && w < 2 ** 32)
    ) {
      throw new RangeError('Invalid MD5 state: the words must be four 32-bit integers.');
    }
    this.words.set(s.words);
    this.block.set(s.tail);
    this.buffered = s.tail.length;
    this.total = s.length;
  }

  get length(): number {
    return this.total;
  }

  update(bytes: Uint8Array): this {
    let p = 0;
    const n = bytes.length;
    this.total += n;
    if (this.buffered > 0) {
      const take = Math.min(64 - this.buffered, n);
      this.block.set(bytes.subarray(0, take), this.buffered);
      this.buffered += take;
      p = take;
      if (this.buffered < 64) return this;
      md5Blocks(this.words, this.blockView, 0, 64);
      this.buffered = 0;
    }
    if (n - p >= 64) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      p = md5Blocks(this.words, view, p, n);
    }
    if (p < n) {
      this.block.set(bytes.subarray(p), 0);
      this.buffered = n - p;
    }
    return this;
  }

  save(): Md5State {
    const [a, b, c, d] = this.words;
    return {
      words: [a!, b!, c!, d!],
      length: this.total,
      tail: this.block.slice(0, this.buffered),
    };
  }

  /** The 16-byte digest of everything so far; the hash can still be extended afterwards. */
  digest(): Uint8Array {
    const words = Int32Array.from(this.words);
    const bitLength = this.total * 8;
    const padLength = this.buffered < 56 ? 64 : 128;
    const pad = new Uint8Array(padLength);
    pad.set(this.block.subarray(0, this.buffered));
    pad[this.buffered] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(padLength - 8, bitLength >>> 0, true);
    view.setUint32(padLength - 4, Math.floor(bitLength / 2 ** 32), true);
    md5Blocks(words, view, 0, padLength);
    const out = new Uint8Array(16);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 4; i++) outView.setInt32(i * 4, words[i]!, true);
    return out;
  }
}
