// Slow and idle clients: heads and bodies that trickle are cut, silent connections are closed,
// and none of them keeps a file, a socket or a session's lease once it is gone. 1,000 idle
// sessions, and 1,000 connections each holding an upload open, cost little memory.
import { connect, type Socket } from 'node:net';
import { CHUNK, initiate, query, storedBytes } from '../harness/gcs.js';
import { scrape } from '../harness/metrics.js';
import { SpoolProcess } from '../harness/spool-process.js';
import { loggedErrors, sleep, type PhaseContext, type PhaseResult } from './phase.js';
import { BUCKET } from './uploads.js';

export interface IdleClientOptions {
  /** Idle sessions and open idle uploads to measure (1,000). */
  readonly sessions: number;
  /** Slow clients of each kind. */
  readonly slow: number;
}

const MiB = 1024 * 1024;

export async function idleClients(
  ctx: PhaseContext,
  options: IdleClientOptions,
): Promise<PhaseResult> {
  const { log } = ctx;
  const violations: string[] = [];
  const figures: Record<string, number | string> = {};
  const spool = await SpoolProcess.start({
    buckets: [BUCKET],
    args: [
      '--session-rate',
      '0',
      '--headers-timeout',
      '2s',
      '--idle-timeout',
      '3s',
      '--min-body-rate',
      '64KiB',
    ],
  });
  const sockets: Socket[] = [];
  try {
    // Warm up (first requests load code), then measure.
    for (let i = 0; i < 20; i++) await initiate(spool.url, BUCKET, `warm-${i}`);
    const base = await spool.resources();
    figures['rss at rest (MiB)'] = mib(base.rss);

    const uris: string[] = [];
    for (let i = 0; i < options.sessions; i++)
      uris.push(await initiate(spool.url, BUCKET, `idle/${i}`));
    const withSessions = await spool.resources();
    figures[`rss with ${options.sessions} idle sessions (MiB)`] = mib(withSessions.rss);
    figures['rss per idle session (KiB)'] = round(
      (withSessions.rss - base.rss) / options.sessions / 1024,
    );

    // Each upload sends its head and 1 KiB of a 1 MiB chunk, then nothing (within the idle timeout).
    for (const uri of uris) sockets.push(await openUpload(uri, 1024));
    const metrics = await scrape(spool.url);
    const open = await spool.resources();
    figures[`uploads held open`] = metrics.get('spool_uploads_in_progress') ?? 0;
    figures[`rss with ${options.sessions} open idle uploads (MiB)`] = mib(open.rss);
    figures['rss per open idle upload (KiB)'] = round(
      (open.rss - withSessions.rss) / options.sessions / 1024,
    );
    figures['file descriptors with them'] = open.fds;
    // Under 64 KiB a session and 256 KiB an open upload: "little", with room for a noisy RSS.
    if (withSessions.rss - base.rss > options.sessions * 64 * 1024)
      violations.push(
        `${options.sessions} idle sessions took ${mib(withSessions.rss - base.rss)} MiB`,
      );
    if (open.rss - withSessions.rss > options.sessions * 256 * 1024)
      violations.push(
        `${options.sessions} open idle uploads took ${mib(open.rss - withSessions.rss)} MiB`,
      );
    // The idle timeout closes them all (the server sees no byte for 3 s).
    await Promise.all(sockets.map(closed));
    sockets.length = 0;
    const stored = await query(uris[0]!);
    if (storedBytes(stored) !== 0)
      violations.push(`an idle upload stored ${storedBytes(stored)} bytes of 1 KiB`);

    // Heads that trickle, bodies that trickle, connections that never say anything.
    const before = await spool.resources();
    figures['file descriptors at rest'] = before.fds;
    const target = new URL(spool.url);
    const slowHeads = Array.from({ length: options.slow }, () =>
      trickle(
        target,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(100)}\r\n\r\n`,
        1,
        300,
      ),
    );
    const silent = Array.from({ length: options.slow }, () => trickle(target, '', 0, 1000));
    const slowBodies = uris.slice(0, options.slow).map((uri) => {
      const u = new URL(uri);
      const head = `PUT ${u.pathname}${u.search} HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-${MiB - 1}/*\r\nContent-Length: ${MiB}\r\n\r\n`;
      return trickle(target, head + 'b'.repeat(MiB), CHUNK + head.length, 100, 100);
    });
    const during = await spool.resources();
    figures['file descriptors with slow clients'] = during.fds;
    const heads = await Promise.all(slowHeads);
    const quiet = await Promise.all(silent);
    const bodies = await Promise.all(slowBodies);
    figures['slow heads answered 408'] = heads.filter((a) => /^HTTP\/1.1 408/.test(a)).length;
    figures['slow bodies answered 408'] = bodies.filter((a) => /^HTTP\/1.1 408/.test(a)).length;
    figures['silent connections closed'] = quiet.length;
    for (const answer of heads)
      if (
        !/^HTTP\/1.1 408[^]*did not arrive within 2000 ms \(spool serve --headers-timeout\)/.test(
          answer,
        )
      )
        violations.push(`a slow head was answered ${JSON.stringify(answer.slice(0, 200))}`);
    for (const answer of bodies)
      if (
        !/^HTTP\/1.1 408[^]*slower than 65536 bytes a second[^]*262144 byte\(s\) of the upload are stored/.test(
          answer,
        )
      )
        violations.push(`a slow body was answered ${JSON.stringify(answer.slice(0, 300))}`);
    const after = await waitUntilSettled(spool, before.fds);
    figures['file descriptors after'] = after.fds;
    if (after.fds > before.fds)
      violations.push(
        `the server holds ${after.fds} file descriptors, ${before.fds} before the slow clients`,
      );
    const inProgress = (await scrape(spool.url)).get('spool_uploads_in_progress');
    if (inProgress !== 0)
      violations.push(`${inProgress} uploads still in progress after the slow clients`);
    for (const uri of uris.slice(0, options.slow)) {
      const status = await query(uri);
      if (storedBytes(status) !== CHUNK)
        violations.push(
          `a slow body's session has ${storedBytes(status)} bytes, not its aligned 256 KiB`,
        );
    }
    violations.push(...loggedErrors(spool.errors(), 'server'));
    log(`idle clients: ${JSON.stringify(figures)}`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await spool.stop();
  }
  return { figures, violations };
}

const mib = (bytes: number) => round(bytes / MiB);
const round = (n: number) => Math.round(n * 10) / 10;

/** Opens an upload of a 1 MiB chunk and sends its head and `bytes` of body, then nothing. */
async function openUpload(uri: string, bytes: number): Promise<Socket> {
  const u = new URL(uri);
  const socket = connect(Number(u.port), u.hostname);
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  socket.write(
    `PUT ${u.pathname}${u.search} HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-${MiB - 1}/*\r\nContent-Length: ${MiB}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(bytes, 1));
  return socket;
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

/**
 * Sends `text`: its first `burst` bytes at once, then `step` bytes every `everyMs`, until the
 * server closes the connection (or 60 s pass). Returns what the server answered.
 */
async function trickle(
  target: URL,
  text: string,
  burst: number,
  everyMs: number,
  step = 1,
): Promise<string> {
  const socket = connect(Number(target.port), target.hostname);
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
  await new Promise((r) => socket.once('connect', r));
  socket.write(text.slice(0, burst));
  let at = burst;
  const timer = setInterval(() => {
    if (at < text.length && !socket.destroyed) socket.write(text.slice(at, (at += step)));
  }, everyMs);
  const giveUp = setTimeout(() => socket.destroy(), 60_000);
  await closed(socket);
  clearInterval(timer);
  clearTimeout(giveUp);
  return answer;
}

/** Waits (up to 10 s) for the server's file descriptors to come down to `fds`. */
async function waitUntilSettled(spool: SpoolProcess, fds: number): Promise<{ fds: number }> {
  for (let i = 0; i < 100; i++) {
    const now = await spool.resources();
    if (now.fds <= fds) return now;
    await sleep(100);
  }
  return spool.resources();
}
