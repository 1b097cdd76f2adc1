// The official Node client, @google-cloud/storage, uploading one file to `spool serve` the way
// its documentation shows: a resumable upload, in 8 MiB chunks or (without chunkSize) in one
// request.
//   node gcs-upload.mjs FILE SERVER_URL OBJECT [CHUNK_BYTES]
import { Storage } from '@google-cloud/storage';

const [file, apiEndpoint, destination, chunk] = process.argv.slice(2);
const storage = new Storage({ apiEndpoint, projectId: 'bench' });
await storage.bucket('bench').upload(file, {
  destination,
  resumable: true,
  ...(chunk ? { chunkSize: Number(chunk) } : {}),
});
