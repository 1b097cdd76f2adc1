import type { Transport } from './transport.js';

/** How to reach the storage API; shared by uploads and the other calls. */
export interface ConnectionOptions {
  /** How requests are sent: NodeHttpTransport from @spool/client/node, or your own. */
  readonly transport: Transport;
  /** Base URL of the storage API: a Spool server, or GCS (the default). */
  readonly endpoint?: string;
  /** A bearer token (or a function giving a fresh one), sent only to the endpoint's origin. */
  readonly token?: string | (() => string | Promise<string>);
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** A request that neither sends nor receives a byte for this many ms has stalled. */
  readonly stallTimeout?: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_STALL_TIMEOUT = 60_000;

/** The caller's headers, and the token when `url` is on the endpoint: a session URI may point anywhere. */
export async function requestHeaders(
  url: string,
  endpoint: string,
  options: Pick<ConnectionOptions, 'token' | 'headers'>,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  const { token } = options;
  if (token !== undefined && new URL(url).origin === new URL(endpoint).origin) {
    headers['authorization'] = `Bearer ${typeof token === 'string' ? token : await token()}`;
  }
  return headers;
}

/** Why a request was refused for lack of credentials, and what to do. */
export function statusHint(status: number, haveToken: boolean): string {
  if (status === 401 || status === 403) {
    return haveToken
      ? 'The bearer token was refused: check that it is valid and may use this bucket.'
      : 'The server wants credentials: set a bearer token ($SPOOL_TOKEN, or the token option).';
  }
  return '';
}
