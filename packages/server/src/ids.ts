import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

// Session IDs are capabilities: whoever holds one may write to the session, with no other
// credential, as on GCS. 256 bits from the CSPRNG, URL-safe.
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export function isSessionIdShape(id: string): boolean {
  return SESSION_ID.test(id);
}

/**
 * Names for blobs: random (122 bits), never derived from user input. randomUUID draws from a
 * cached block of the CSPRNG's output; a randomBytes call per name cost ~14 µs on the benchmark
 * machine, and every upload names a blob.
 */
export function newBlobId(): string {
  return randomUUID().replaceAll('-', '');
}

/**
 * The key a session is stored under: a hash of its ID. Stores look sessions up by this key, so
 * the time a lookup takes says nothing about how much of a guessed ID was right.
 */
export function sessionKey(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A session ID shortened for logs: enough to correlate, useless to an attacker. */
export function redactSessionId(id: string): string {
  return `${id.slice(0, 6)}…`;
}
