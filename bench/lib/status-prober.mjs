// Asks the status of a few sessions one after another and times each answer, from its own
// process so that the uploads' client work does not delay the measurement. Prints `ready` once
// its sessions exist, probes until standard input ends, then prints {probes, p50, p99, max} (ms).
//   node status-prober.mjs SERVER_URL
import { request } from 'node:http';
import { percentile } from './common.mjs';

const [server] = process.argv.slice(2);
const PROBE_SESSIONS = 8;

/** Sessions that the prober queries; started before the load, with nothing sent yet. */
async function probeSessions() {
  const uris = [];
  for (let i = 0; i < PROBE_SESSIONS; i++) {
    const res = await fetch(
      `${server}/upload/storage/v1/b/bench/o?uploadType=resumable&name=probe-${i}`,
      { method: 'POST' },
    );
    if (res.status !== 200) throw new Error(`probe session answered ${res.status}`);
    uris.push(res.headers.get('location'));
  }
  return uris;
}

/** One status query (a PUT with no body and a Content-Range of unknown size), timed. */
function statusQuery(uri) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(uri, {
      method: 'PUT',
      headers: { 'content-range': 'bytes */*', 'content-length': 0 },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 308
          ? resolve(performance.now() - started)
          : reject(new Error(`status query answered ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const uris = await probeSessions();
let probing = true;
process.stdin.resume();
process.stdin.on('end', () => (probing = false));
console.log('ready');
const latencies = [];
for (let i = 0; probing; i++) latencies.push(await statusQuery(uris[i % uris.length]));
console.log(
  JSON.stringify({
    probes: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
  }),
);
