import type { Locker } from './locks.js';
import type { Logger } from './log.js';
import { isBackendUnavailable } from './store/backend-errors.js';
import { createS3Client, parseS3Url, s3EndpointFromEnv } from './store/s3/client.js';
import { S3BlobStore } from './store/s3/blobs.js';
import { PgLocker } from './store/pg/locker.js';
import { PgMetadataStore } from './store/pg/metadata.js';
import { migrate } from './store/pg/migrations.js';
import { createPool } from './store/pg/pool.js';
import type { Stores } from './store/types.js';

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
  env: NodeJS.ProcessEnv = process.env,
): Promise<Stores & { readonly locks: Locker }> {
  if (!/^postgres(ql)?:\/\//.test(storage.metadata)) {
    throw new Error(
      `--metadata must be a PostgreSQL URL (postgres://user:password@host:port/database), not "${storage.metadata.slice(0, 100)}".`,
    );
  }
  const location = parseS3Url(storage.blobs);
  const endpoint = s3EndpointFromEnv(env);
  const pool = createPool(storage.metadata, log);
  const s3 = createS3Client(endpoint, log);
  const database = describeUrl(storage.metadata);
  const s3Name = endpoint.endpoint ?? `AWS S3 (${endpoint.region})`;
  try {
    const schema = await explained(migrate(pool), `PostgreSQL at ${database} (--metadata)`);
    const blobs = await explained(S3BlobStore.open(s3, location), `S3 at ${s3Name} (--blobs)`);
    const locks = await explained(
      PgLocker.open(storage.metadata, log),
      `PostgreSQL at ${database} (--metadata)`,
    );
    log.info('distributed storage ready', {
      schema: schema.to,
      migratedFrom: schema.from,
      s3Endpoint: endpoint.endpoint ?? 'AWS',
      bucket: location.bucket,
      prefix: location.prefix,
    });
    const metadata = new PgMetadataStore(pool);
    return { metadata, blobs, locks };
  } catch (error) {
    await pool.end().catch(() => undefined);
    s3.destroy();
    throw error;
  }
}

/** Says which backend failed when it cannot be reached at all. */
async function explained<T>(work: Promise<T>, backend: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!isBackendUnavailable(error)) throw error;
    throw new Error(`${backend} cannot be reached: ${(error as Error).message}`);
  }
}

/** host:port/database, without the password. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the --metadata URL';
  }
}
