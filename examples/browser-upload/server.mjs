// A minimal app whose users upload files straight from their browser to Spool. The backend holds
// the Spool token and decides what may be uploaded where; for each upload it starts a resumable
// session with the browser's Origin (Spool then answers that page's requests to the session, and
// no other page's) and hands the page the session URI, which is permission for that one object.
// The file's bytes never pass through this server.
//
//   spool serve --token-file tokens --bucket demo
//   SPOOL_URL=http://127.0.0.1:4080 SPOOL_TOKEN=… SPOOL_BUCKET=demo node server.mjs
//
// SPOOL_URL is where both this backend and the browser reach Spool (behind a proxy, start Spool
// with --public-url so that session URIs point where browsers can reach them).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';

const spool = (process.env.SPOOL_URL ?? 'http://127.0.0.1:4080').replace(/\/+$/, '');
const token = process.env.SPOOL_TOKEN; // none needed when Spool runs without --token-file
const bucket = process.env.SPOOL_BUCKET ?? 'demo';
const port = Number(process.env.PORT ?? 8080);

const page = (await readFile(new URL('index.html', import.meta.url), 'utf8')).replace(
  '{{SPOOL_URL}}',
  spool,
);
const script = await readFile(new URL('app.js', import.meta.url));

/** Starts the session the browser will upload into; resolves to its URI and the object name. */
async function startUpload(origin, { name, size, type }) {
  // Here anyone may upload anything into uploads/; a real app checks who is asking first.
  const object = `uploads/${name}`;
  const url = `${spool}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(object)}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      origin, // the page that will send the bytes
      'content-type': 'application/json',
      'x-upload-content-length': String(size),
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ contentType: type || 'application/octet-stream' }),
  });
  if (res.status !== 200) throw new Error(`Spool: ${res.status} ${await res.text()}`);
  return { sessionUri: res.headers.get('location'), object };
}

async function readJson(req, limit = 4096) {
  let text = '';
  for await (const piece of req) {
    text += piece;
    if (text.length > limit) throw new Error('request too large');
  }
  return JSON.parse(text);
}

const server = createServer(async (req, res) => {
  const reply = (status, type, body) => res.writeHead(status, { 'content-type': type }).end(body);
  if (req.method === 'GET' && req.url === '/') return reply(200, 'text/html', page);
  if (req.method === 'GET' && req.url === '/app.js') return reply(200, 'text/javascript', script);
  if (req.method !== 'POST' || req.url !== '/uploads') return reply(404, 'text/plain', 'Not found');
  // Only this app's own pages may ask (browsers send Origin with every POST).
  const origin = req.headers.origin;
  if (origin !== `http://${req.headers.host}`) return reply(403, 'text/plain', 'Not this origin');
  try {
    const { name, size, type } = await readJson(req);
    if (typeof name !== 'string' || !Number.isSafeInteger(size) || size < 0) {
      return reply(400, 'text/plain', 'Send {"name", "size", "type"}.');
    }
    const started = await startUpload(origin, { name, size, type: String(type ?? '') });
    reply(200, 'application/json', JSON.stringify(started));
  } catch (error) {
    reply(400, 'text/plain', error.message);
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
