// The direct path to S3: the AWS SDK's managed multipart upload (@aws-sdk/lib-storage) of one
// file, 8 MiB parts, 4 at a time. Credentials and endpoint from the environment.
//   node s3-upload.mjs FILE BUCKET KEY
import { createReadStream } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const [file, bucket, key] = process.argv.slice(2);
const s3 = new S3Client({
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
await new Upload({
  client: s3,
  params: { Bucket: bucket, Key: key, Body: createReadStream(file) },
  partSize: 8 * 1024 * 1024,
  queueSize: 4,
}).done();
