// Many uploads at once from one process with @spool/client.
//   node concurrent-uploads.mjs SERVER_URL COUNT BYTES
// Prints {ms} on stdout.
import { randomBytes } from 'node:crypto';
import { upload } from '@spool/client/node';

const [server, countText, bytesText] = process.argv.slice(2);
const count = Number(countText);
const bytes = Number(bytesText);

// Distinct content per upload, without holding COUNT buffers: 16 of them, reused.
const bodies = Array.from({ length: 16 }, () => randomBytes(bytes));
const started = performance.now();
await Promise.all(
  Array.from({ length: count }, (_, i) =>
    upload(
      bodies[i % bodies.length],
      { bucket: 'bench', object: `many/${i}` },
      { endpoint: server, stateStore: null },
    ),
  ),
);
console.log(JSON.stringify({ ms: performance.now() - started }));
