// One upload of a file with @spool/client through a proxy that cuts the connection every
// CUT_EVERY bytes (0: never), retrying at once (no backoff). Prints on stdout
// {ms, cuts, bodyBytes, lost}: the object bytes that crossed the proxy (resends included) and
// the bytes lost in flight (forwarded before a cut, past the offset the next request resumed at).
//   node cut-upload.mjs FILE SERVER_URL OBJECT CUT_EVERY
import { statSync } from 'node:fs';
import { upload } from '@spool/client/node';
import { TcpProxy } from '../../tests/dist/harness/tcp-proxy.js';

const [file, server, object, cutEveryText] = process.argv.slice(2);
const size = statSync(file).size;
const cutEvery = Number(cutEveryText);
const proxy = await TcpProxy.start(server);
const marks = [];
if (cutEvery > 0) {
  // Enough cut points for every resend too.
  const points = Array.from(
    { length: Math.ceil((2 * size) / cutEvery) },
    (_, i) => (i + 1) * cutEvery,
  );
  proxy.cutAt(points, (cut) => marks.push({ cut, requestsBefore: proxy.requests.length }));
}
const started = performance.now();
await upload(
  file,
  { bucket: 'bench', object },
  {
    endpoint: proxy.url,
    stateStore: null,
    retry: { initialDelay: 0, maxDelay: 0, retries: 100 },
  },
);
const ms = performance.now() - started;
await proxy.close();

// Each cut's furthest forwarded byte, against the offset the next request with a body resumed at.
let lost = 0;
for (const { cut, requestsBefore } of marks) {
  const next = proxy.requests.slice(requestsBefore).find((r) => r.first !== undefined);
  if (cut.wireOffset !== undefined && next) lost += Math.max(0, cut.wireOffset - next.first);
}
console.log(JSON.stringify({ ms, cuts: proxy.cuts.length, bodyBytes: proxy.bodyBytesUp, lost }));
