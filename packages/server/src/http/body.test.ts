import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { BodyReader, TURN_BYTES } from './body.js';

/**
 * The server side of a request whose client sends `sent` bytes of a body announcing `announced`,
 * then ends the connection: as soon as it arrives, or (`closed`) once it has closed, as a handler
 * sees it that waited for its session's lock.
 */
function receive(announced: number, sent: number, when: 'arrived' | 'closed') {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const server = createServer((req) => {
      const done = () => {
        server.close();
        resolve(req);
      };
      if (when === 'closed') req.once('close', done);
      else done();
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ${announced}\r\n\r\n`);
      socket.end(Buffer.alloc(sent, 1));
    });
  });
}

describe('BodyReader', () => {
  it('ends at once when the connection closed before reading began', async () => {
    const body = new BodyReader(await receive(1000, 10, 'closed'));
    let next = await body.next();
    while (typeof next !== 'string') next = await body.next();
    assert.equal(next, 'interrupted');
  });

  it('hands out at most a turn of bytes before the event loop moves on', async () => {
    const size = 8 * TURN_BYTES;
    const req = await receive(size, size, 'arrived');
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
