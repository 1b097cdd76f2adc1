import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { publicKeyOf, type SigningCredential, type VerificationKeys } from './v4-signature.js';

/** A configuration problem with a key file, reported before the server starts. */
export class KeyFileError extends Error {}

/**
 * Reads a signing key given as a service account JSON key file (the usual way: the email comes
 * from the file), or as `EMAIL=FILE` with a PEM certificate, public key or private key.
 */
async function readSigningKey(spec: string): Promise<{ email: string; pem: string }> {
  const eq = spec.indexOf('=');
  const [email, path] =
    eq > 0 && spec.slice(0, eq).includes('@')
      ? [spec.slice(0, eq), spec.slice(eq + 1)]
      : [undefined, spec];
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new KeyFileError(`Cannot read signing key ${path}: ${error.code ?? error.message}.`);
  });
  if (text.trimStart().startsWith('{')) {
    let json: { client_email?: unknown; private_key?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new KeyFileError(`${path} is not valid JSON; expected a service account key file.`);
    }
    if (typeof json.client_email !== 'string' || typeof json.private_key !== 'string') {
      throw new KeyFileError(
        `${path} has no client_email and private_key; expected a service account key file.`,
      );
    }
    return { email: email ?? json.client_email, pem: json.private_key };
  }
  if (!email)
    throw new KeyFileError(
      `${path} is a PEM file: give the account it belongs to as EMAIL=${path}.`,
    );
  return { email, pem: text };
}

/** Public keys for verifying GOOG4-RSA-SHA256 signatures, by service account email. */
export async function loadSigningKeys(specs: readonly string[]): Promise<Map<string, KeyObject>> {
  const keys = new Map<string, KeyObject>();
  for (const spec of specs) {
    const { email, pem } = await readSigningKey(spec);
    try {
      keys.set(email, publicKeyOf(pem));
    } catch (error) {
      throw new KeyFileError(
        `The key for ${email} is not a PEM key or certificate: ${(error as Error).message}`,
      );
    }
  }
  return keys;
}

/** HMAC keys from a file of `ACCESS_ID SECRET` lines (blank lines and # comments ignored). */
export async function loadHmacKeys(path: string | undefined): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  if (path === undefined) return keys;
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new KeyFileError(`Cannot read HMAC key file ${path}: ${error.code ?? error.message}.`);
  });
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 2)
      throw new KeyFileError(`${path}:${index + 1}: expected "ACCESS_ID SECRET".`);
    keys.set(parts[0]!, parts[1]!);
  });
  return keys;
}

export async function loadVerificationKeys(
  signingKeys: readonly string[],
  hmacKeyFile: string | undefined,
): Promise<VerificationKeys> {
  return { rsa: await loadSigningKeys(signingKeys), hmac: await loadHmacKeys(hmacKeyFile) };
}

/** The private credential `spool sign` signs with: a service account key file, or an HMAC key. */
export async function loadSigningCredential(spec: {
  keyFile?: string;
  hmac?: string;
}): Promise<SigningCredential> {
  if (spec.hmac !== undefined) {
    const [accessId, secret] = spec.hmac.split(':');
    if (!accessId || !secret) throw new KeyFileError('An HMAC key is given as ACCESS_ID:SECRET.');
    return { kind: 'hmac', accessId, secret };
  }
  if (spec.keyFile === undefined)
    throw new KeyFileError('Give a service account key file or an HMAC key to sign with.');
  const { email, pem } = await readSigningKey(spec.keyFile);
  if (!pem.includes('PRIVATE KEY'))
    throw new KeyFileError(`${spec.keyFile} holds no private key to sign with.`);
  return { kind: 'rsa', email, privateKeyPem: pem };
}
