import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { BodyReader, TURN_BYTES } from './body.js';

/**
 * A request whose client sends `sent` bytes of a body announcing `announced`, then closes the
 * connection; the handler waits for the request to close before it reads the body, as one does
 * that waits for its session's lock.
 */
async function readAfterClose(announced: number, sent: number): Promise<(Buffer | string)[]> {
  const seen = new Promise<IncomingMessage>((resolve, reject) => {
    const server = createServer((req) => {
      req.once('close', () => {
        server.close();
        resolve(req);
      });
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ${announced}\r\n\r\n`);
      socket.end(Buffer.alloc(sent, 1));
    });
  });
  const req = await seen;
  const body = new BodyReader(req);
  const out: (Buffer | string)[] = [];
  while (true) {
    const next = await body.next();
    out.push(next);
    if (typeof next === 'string') return out;
  }
}

describe('BodyReader', () => {
  it('ends at once when the connection closed before reading began', async () => {
    const out = await readAfterClose(1000, 10);
    assert.equal(out.at(-1), 'interrupted');
  });

  it('hands out at most a turn of bytes before the event loop moves on', async () => {
    const size = 8 * TURN_BYTES;
    const received = new Promise<IncomingMessage>((resolve, reject) => {
      const server = createServer((req) => {
        server.close();
        resolve(req);
      });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.write(`PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
        socket.end(Buffer.alloc(size, 1));
      });
    });
    const req = await received;
    const body = new BodyReader(req);
    // The reader pauses the socket once its read-ahead (more than a turn's worth) is full.
    const deadline = Date.now() + 5000;
    while (!req.isPaused() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(req.isPaused(), 'the read-ahead never filled');

    let phaseOver = false;
    setImmediate(() => (phaseOver = true));
    let takenInPhase = 0;
    let total = 0;
    while (true) {
      const next = await body.next();
      if (typeof next === 'string') {
        assert.equal(next, 'complete');
        break;
      }
      total += next.length;
      if (!phaseOver) takenInPhase += next.length;
    }
    assert.equal(total, size);
    assert.ok(takenInPhase > 0, 'nothing was handed out before the event loop moved on');
    assert.ok(
      takenInPhase <= TURN_BYTES + 64 * 1024,
      `${takenInPhase} bytes handed out in one phase (at most ${TURN_BYTES} + one read)`,
    );
  });
});
