import type { Logger } from './log.js';
import type { Services } from './services.js';
import { createS3Client, parseS3Url, s3EndpointFromEnv } from './store/s3/client.js';
import { S3BlobStore } from './store/s3/blobs.js';
import { PgLocker } from './store/pg/locker.js';
import { PgMetadataStore } from './store/pg/metadata.js';
import { migrate } from './store/pg/migrations.js';
import { createPool } from './store/pg/pool.js';

/** The two settings that make a group of servers one service. */
export interface DistributedStorage {
  /** `postgres://…`: sessions, objects, buckets and session locks. */
  readonly metadata: string;
  /** `s3://BUCKET[/prefix]`: the bytes; endpoint and keys from the standard AWS variables. */
  readonly blobs: string;
}

/**
 * Opens PostgreSQL (migrating its schema) and the S3 bucket. Nothing is kept on local disk:
 * every server with the same two settings serves any request.
 */
export async function openDistributed(
  storage: DistributedStorage,
  log: Logger,
  sessionTtlMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Services> {
  if (!/^postgres(ql)?:\/\//.test(storage.metadata)) {
    throw new Error(
      `--metadata must be a PostgreSQL URL (postgres://user:password@host:port/database), not "${storage.metadata.slice(0, 100)}".`,
    );
  }
  const location = parseS3Url(storage.blobs);
  const endpoint = s3EndpointFromEnv(env);
  const pool = createPool(storage.metadata, log);
  const s3 = createS3Client(endpoint, log);
  try {
    const schema = await migrate(pool);
    const blobs = await S3BlobStore.open(s3, location);
    const locks = await PgLocker.open(storage.metadata, log);
    log.info('distributed storage ready', {
      schema: schema.to,
      migratedFrom: schema.from,
      s3Endpoint: endpoint.endpoint ?? 'AWS',
      bucket: location.bucket,
      prefix: location.prefix,
    });
    const metadata = new PgMetadataStore(pool);
    return { metadata, blobs, locks, log, sessionTtlMs, now: () => Date.now() };
  } catch (error) {
    await pool.end().catch(() => undefined);
    s3.destroy();
    throw error;
  }
}
