// The raw path's client: one PUT streaming a file, as plain as it gets.
//   node raw-put.mjs FILE SERVER_URL
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';

const [file, url] = process.argv.slice(2);
const req = request(url, { method: 'PUT', headers: { 'content-length': statSync(file).size } });
const answered = new Promise((resolve, reject) => {
  req.on('response', (res) => {
    res.resume();
    res.on('end', resolve);
  });
  req.on('error', reject);
});
await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), req);
await answered;
