// The PostgreSQL and S3 (Ceph RGW) that `npm test` starts (scripts/test.sh), each test file getting
// its own database and bucket.
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import { S3BlobStore, createS3Client, silentLogger } from '@spool/server';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. These tests need the PostgreSQL and Ceph that "npm test" starts (scripts/test.sh); run them through it, or set SPOOL_TEST_POSTGRES_URL, SPOOL_TEST_S3_ENDPOINT, SPOOL_TEST_S3_ACCESS_KEY and SPOOL_TEST_S3_SECRET_KEY.`,
    );
  }
  return value;
}

/** The standard AWS variables pointing at the test S3, for `spool serve` and the SDK. */
export function s3Env(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: required('SPOOL_TEST_S3_ENDPOINT'),
    AWS_ACCESS_KEY_ID: required('SPOOL_TEST_S3_ACCESS_KEY'),
    AWS_SECRET_ACCESS_KEY: required('SPOOL_TEST_S3_SECRET_KEY'),
    AWS_REGION: 'us-east-1',
  };
}

export function testS3Client(): S3Client {
  const env = s3Env();
  return new S3Client({
    endpoint: env['AWS_ENDPOINT_URL'],
    region: env['AWS_REGION'],
    forcePathStyle: true,
    credentials: {
      accessKeyId: env['AWS_ACCESS_KEY_ID']!,
      secretAccessKey: env['AWS_SECRET_ACCESS_KEY']!,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Spool's S3 blob store on the test S3, as a server opens it (keys from the environment). */
export function openTestBlobStore(bucket: string, prefix: string): Promise<S3BlobStore> {
  const env = s3Env();
  process.env['AWS_ACCESS_KEY_ID'] = env['AWS_ACCESS_KEY_ID'];
  process.env['AWS_SECRET_ACCESS_KEY'] = env['AWS_SECRET_ACCESS_KEY'];
  const s3 = createS3Client(
    { endpoint: env['AWS_ENDPOINT_URL'], region: env['AWS_REGION']! },
    silentLogger,
  );
  return S3BlobStore.open(s3, { bucket, prefix });
}

/** A new, empty database; `drop` removes it (closing whatever is still connected). */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = required('SPOOL_TEST_POSTGRES_URL');
  const name = `spool_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A new, empty bucket, and what the tests look at in it. */
export class TestBucket {
  private constructor(
    readonly name: string,
    readonly s3: S3Client,
  ) {}

  static async create(): Promise<TestBucket> {
    const s3 = testS3Client();
    const name = `spool-test-${randomBytes(6).toString('hex')}`;
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    return new TestBucket(name, s3);
  }

  async keys(prefix = ''): Promise<string[]> {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken }),
      );
      for (const o of page.Contents ?? []) keys.push(o.Key!);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys;
  }

  /** Keys with a multipart upload in progress. */
  async uploads(prefix = ''): Promise<{ key: string; uploadId: string }[]> {
    const { Uploads } = await this.s3.send(
      new ListMultipartUploadsCommand({ Bucket: this.name, Prefix: prefix }),
    );
    return (Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId! }));
  }

  /** Empties and deletes the bucket. */
  async remove(): Promise<void> {
    for (const { key, uploadId } of await this.uploads()) {
      await this.s3.send(
        new AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: uploadId }),
      );
    }
    const keys = await this.keys();
    for (let i = 0; i < keys.length; i += 1000) {
      await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.name,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
    await this.s3.send(new DeleteBucketCommand({ Bucket: this.name }));
    this.s3.destroy();
  }
}
