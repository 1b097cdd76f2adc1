import { signedUrlObject } from '@spool/client/browser';

// What lets the page upload. With tokens on (spool serve --token-file), a person types a bearer
// token; an app can instead hand out a link to the page carrying a signed URL or a session URI
// its backend obtained (#signed-url=… or #session=…), which is permission for one object only.

export type Access =
  | { readonly kind: 'open' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'signed'; readonly signedUrl: string }
  | { readonly kind: 'session'; readonly sessionUri: string };

/** The access a page link carries in its fragment, if any. */
export function linkAccess(hash: string): Access | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const signedUrl = params.get('signed-url');
  if (signedUrl) return parseAccess(signedUrl);
  const sessionUri = params.get('session');
  if (sessionUri) return parseAccess(sessionUri);
  return undefined;
}

/**
 * What the access field holds: a signed URL (it has X-Goog-Signature), a session URI (it has
 * upload_id), a bearer token, or nothing.
 */
export function parseAccess(text: string): Access {
  const value = text.trim();
  if (value === '') return { kind: 'open' };
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error('This link is not a valid URL.');
    }
    if (url.searchParams.has('X-Goog-Signature')) return { kind: 'signed', signedUrl: value };
    if (url.searchParams.has('upload_id')) return { kind: 'session', sessionUri: value };
    throw new Error(
      'This link is neither a signed URL (X-Goog-Signature=…) nor a session URI (upload_id=…).',
    );
  }
  if (/\s/.test(value)) throw new Error('A bearer token has no spaces.');
  return { kind: 'token', token: value };
}

/** The object a signed URL uploads to, as the page shows it (a session URI does not say). */
export function linkTarget(access: Access): string | undefined {
  if (access.kind !== 'signed') return undefined;
  try {
    const { bucket, object } = signedUrlObject(access.signedUrl);
    return `gs://${bucket}/${object}`;
  } catch {
    return undefined;
  }
}
