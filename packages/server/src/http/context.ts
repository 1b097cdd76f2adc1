import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenGrant } from '../auth/tokens.js';
import type { RequestFaults } from '../faults/request-faults.js';
import type { Query } from './query.js';

/** One request as the handlers see it. */
export interface Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** The path as sent, still percent-encoded. */
  readonly path: string;
  readonly query: Query;
  /** Scheme, host and port clients reach this server at, for absolute links. */
  readonly baseUrl: string;
  readonly requestId: string;
  /** Extra fields for this request's access log line. */
  readonly logFields: Record<string, unknown>;
  /** Faults to inject past the request's start; none unless fault injection set them. */
  faults: RequestFaults;
  /** The bearer token the request was let in with, when the server requires tokens. */
  principal?: TokenGrant;
}

export function header(ctx: Context, name: string): string | undefined {
  const value = ctx.req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
