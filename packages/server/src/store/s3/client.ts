import { inspect } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../log.js';

/** Where blobs go: `s3://BUCKET[/prefix]`. */
export interface S3Location {
  readonly bucket: string;
  /** Empty, or ends with "/". */
  readonly prefix: string;
}

/** Parses `s3://BUCKET[/prefix]`; throws an Error a person can act on. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(url);
  if (!m) {
    throw new Error(
      `--blobs must look like s3://BUCKET or s3://BUCKET/prefix, not "${url.slice(0, 100)}".`,
    );
  }
  const bucket = m[1]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error(
      `"${bucket}" is not an S3 bucket name (3-63 lowercase letters, digits, . and -).`,
    );
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket, prefix: prefix === '' ? '' : `${prefix}/` };
}

/** What the S3 client is pointed at, from the standard AWS variables. */
export interface S3Endpoint {
  readonly endpoint: string | undefined;
  readonly region: string;
}

export function s3EndpointFromEnv(env: NodeJS.ProcessEnv): S3Endpoint {
  return {
    endpoint: env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined,
    region: env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1',
  };
}

/**
 * An S3 client for AWS or any S3-compatible store. Credentials come from the SDK's usual chain
 * (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY first). Checksums only where S3 requires them:
 * the SDK's default (CRC32 trailers with aws-chunked bodies) is refused by Ceph RGW and other
 * S3-compatible stores. A custom endpoint gets path-style addressing (no bucket DNS names). The
 * SDK's own warnings go to Spool's log.
 */
export function createS3Client({ endpoint, region }: S3Endpoint, log: Logger): S3Client {
  // The SDK warns on stderr that its future versions will need Node 22; this version (pinned by
  // the lockfile) runs on Node 20, and Spool's stderr is JSON log lines.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const client = new S3Client({
    region,
    ...(endpoint !== undefined && { endpoint, forcePathStyle: true }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
    // Failed requests reach the caller as errors (a 404 is often expected): the SDK's own error
    // lines are details for debugging.
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (...args: unknown[]) => log.warn('S3 client', { details: describe(args) }),
      error: (...args: unknown[]) => log.debug('S3 client', { details: describe(args) }),
    },
  });
  // Over plain HTTP the SDK signs a SHA-256 of every body it holds in memory: a second hash of
  // every byte, which costs more CPU than the rest of the write path. Bodies are signed as
  // UNSIGNED-PAYLOAD instead, as the SDK already does for streamed bodies; the object's MD5 and
  // CRC32C are computed as the bytes arrive anyway.
  client.middlewareStack.add(
    (next, context) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (UNSIGNED_BODIES.has(context.commandName ?? '') && request.headers)
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'spoolUnsignedPayload' },
  );
  return client;
}

const UNSIGNED_BODIES = new Set(['PutObjectCommand', 'UploadPartCommand']);

const describe = (args: unknown[]) =>
  args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 2, breakLength: Infinity })));
