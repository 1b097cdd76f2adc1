process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED='true';
import { S3Client, ListObjectsV2Command, DeleteObjectCommand, ListMultipartUploadsCommand, AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
const s = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
const Bucket = process.argv[2];
const l = await s.send(new ListObjectsV2Command({ Bucket }));
for (const c of l.Contents ?? []) { console.log('del', c.Key, c.Size); await s.send(new DeleteObjectCommand({ Bucket, Key: c.Key })); }
const u = await s.send(new ListMultipartUploadsCommand({ Bucket }));
for (const x of u.Uploads ?? []) { console.log('abort', x.Key); await s.send(new AbortMultipartUploadCommand({ Bucket, Key: x.Key, UploadId: x.UploadId })); }
