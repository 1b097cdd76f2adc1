// The tus comparator's client: tus-js-client uploading one file with its default options.
//   node tus-upload.mjs FILE SERVER_URL
import { createReadStream } from 'node:fs';
import { Upload } from 'tus-js-client';

const [file, server] = process.argv.slice(2);
await new Promise((resolve, reject) => {
  new Upload(createReadStream(file), {
    endpoint: `${server}/files`,
    metadata: { filename: 'upload.bin' },
    onSuccess: resolve,
    onError: reject,
  }).start();
});
