// Clean-up: sessions in every state (new, part-written, being written, finished, cancelled)
// expire, with a SIGKILL while the sweeper is at work. Afterwards no session is left, each
// expired one's data is gone, the finished uploads' objects are intact, and the data directory
// holds nothing orphaned.
import { auditDataDir, auditProblems } from '../harness/data-dir.js';
import { CHUNK, download, initiate, md5Base64, putChunk, query } from '../harness/gcs.js';
import { send } from '../harness/http.js';
import { scrape } from '../harness/metrics.js';
import { SpoolProcess } from '../harness/spool-process.js';
import { loggedErrors, sleep, type PhaseContext, type PhaseResult } from './phase.js';
import { BUCKET } from './uploads.js';

export interface ExpiryOptions {
  /** Sessions of each state. */
  readonly sessions: number;
}

const TTL_MS = 4000;

type State = 'new' | 'partial' | 'writing' | 'finished' | 'cancelled';
const STATES: readonly State[] = ['new', 'partial', 'writing', 'finished', 'cancelled'];

export async function expiry(ctx: PhaseContext, options: ExpiryOptions): Promise<PhaseResult> {
  const { random, log } = ctx;
  const violations: string[] = [];
  const args = ['--session-rate', '0', '--session-ttl', `${TTL_MS}ms`, '--sweep-interval', '200ms'];
  let spool = await SpoolProcess.start({ buckets: [BUCKET], args });
  const figures: Record<string, number> = { sessions: 0, writerAnswers: 0 };
  const objects = new Map<string, string>();
  const uris: string[] = [];
  const writers: Promise<void>[] = [];
  const base = () => spool.url;
  try {
    for (const state of STATES) {
      for (let i = 0; i < options.sessions; i++) {
        const name = `expiry/${state}-${i}`;
        const uri = await initiate(spool.url, BUCKET, name);
        uris.push(uri);
        figures['sessions']!++;
        const data = random.bytes(random.int(1, 4) * CHUNK + random.int(0, CHUNK - 1));
        if (state === 'partial') {
          const n = Math.floor(data.length / CHUNK) * CHUNK;
          await putChunk(uri, `bytes 0-${n - 1}/*`, data.subarray(0, n));
        } else if (state === 'finished') {
          const res = await putChunk(uri, undefined, data);
          if (res.status !== 200) violations.push(`finishing ${name}: ${res.status}`);
          objects.set(name, md5Base64(data));
        } else if (state === 'cancelled') {
          await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK));
          await send({ method: 'DELETE', url: uri });
        } else if (state === 'writing') {
          writers.push(keepWriting(uri, base, figures, violations));
        }
      }
    }
    // The first sweeps run; then a SIGKILL, and a new process finishes the work.
    await sleep(TTL_MS + random.int(0, 400));
    spool = await spool.restart();
    const gone = await waitFor(
      async () => (await scrape(spool.url)).get('spool_sessions_open') === 0,
    );
    if (!gone) violations.push(`sessions are still open ${TTL_MS + 15_000} ms after they expired`);
    await Promise.all(writers);
    for (const uri of uris) {
      const status = await query(uri.replace(/^http:\/\/[^/]+/, spool.url));
      if (status.status !== 404)
        violations.push(`an expired session answers ${status.status}, not 404`);
    }
    for (const [name, md5] of objects) {
      const res = await download(spool.url, BUCKET, name);
      if (res.status !== 200 || md5Base64(res.body) !== md5)
        violations.push(`${name}, finished before its session expired: ${res.status}`);
    }
    violations.push(...loggedErrors(spool.errors(), 'server'));
    spool = await spool.restart();
    const audit = await auditDataDir(spool.dataDir);
    violations.push(...auditProblems(audit));
    if (audit.sessions !== 0) violations.push(`${audit.sessions} session records left`);
    Object.assign(figures, {
      sessionsLeft: audit.sessions,
      objects: audit.objects,
      blobs: audit.blobs,
      orphans: audit.orphans.length,
      strays: audit.strays.length,
    });
    log(`expiry: ${JSON.stringify(figures)}`);
  } finally {
    await spool.stop();
  }
  return { figures, violations };
}

/**
 * Sends a chunk every 300 ms (to whichever process is up) until the session is gone: it must end
 * as "not found", never with a server error.
 */
async function keepWriting(
  uri: string,
  base: () => string,
  figures: Record<string, number>,
  violations: string[],
): Promise<void> {
  const chunk = Buffer.alloc(CHUNK, 7);
  for (let offset = 0; offset < 1000 * CHUNK; offset += CHUNK) {
    await sleep(300);
    const res = await putChunk(
      uri.replace(/^http:\/\/[^/]+/, base()),
      `bytes ${offset}-${offset + CHUNK - 1}/*`,
      chunk,
    ).catch(() => undefined);
    if (res === undefined) {
      offset -= CHUNK; // the server was down: send it again
      continue;
    }
    figures['writerAnswers']!++;
    if (res.status === 308) continue;
    if (res.status !== 404)
      violations.push(`a writer whose session expired got ${res.status} ${res.text()}`);
    return;
  }
}

async function waitFor(check: () => Promise<boolean>, ms = TTL_MS + 15_000): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(200))
    if (await check()) return true;
  return false;
}
