// Many uploads from one process, CONCURRENCY at a time.
//   node many-uploads.mjs KIND SERVER_URL COUNT BYTES CONCURRENCY
// KIND: spool-resumable (@spool/client: session, then the bytes), spool-multipart (@spool/client
// with multipartThreshold: one multipart/related POST per object, as GCS clients send small
// files), or tus (tus-js-client to @tus/server). Prints {ms} on stdout.
import { randomBytes } from 'node:crypto';
import { upload } from '@spool/client/node';
import { Upload } from 'tus-js-client';

const [kind, server, countText, bytesText, concurrencyText] = process.argv.slice(2);
const count = Number(countText);
const bytes = Number(bytesText);

const senders = {
  'spool-resumable': (name, body) =>
    upload(body, { bucket: 'bench', object: name }, { endpoint: server, stateStore: null }),
  'spool-multipart': (name, body) =>
    upload(
      body,
      { bucket: 'bench', object: name },
      { endpoint: server, stateStore: null, multipartThreshold: body.length },
    ),
  tus: (name, body) =>
    new Promise((resolve, reject) =>
      new Upload(body, {
        endpoint: `${server}/files`,
        metadata: { filename: name },
        onSuccess: resolve,
        onError: reject,
      }).start(),
    ),
};
const send = senders[kind];
if (!send) throw new Error(`unknown kind ${kind}`);

// Contents made before the clock starts: 16 different ones, reused, so that 200 uploads of
// 8 MiB do not hold 1.6 GiB.
const bodies = Array.from({ length: Math.min(count, 16) }, () => randomBytes(bytes));
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concurrencyText) }, async () => {
    while (next < count) {
      const i = next++;
      await send(`many/${i}`, bodies[i % bodies.length]);
    }
  }),
);
console.log(JSON.stringify({ ms: performance.now() - started }));
