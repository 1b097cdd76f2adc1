// Bad input and bad servers: each ends with a clear error and no corrupt object. Broken servers
// are played by a small HTTP server that answers the protocol wrongly on purpose; everything a
// real server does is done by a real `spool serve`.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { UploadHasher, offsetBeyondPersisted, parseContentRange } from '@spool/core';
import {
  DataLossError,
  GaveUpError,
  HttpError,
  IntegrityError,
  InvalidOptionsError,
  NetworkError,
  createUpload,
  upload,
  type RetryEvent,
} from '@spool/client/node';
import { BrokenServer, type Answer, type Received } from './harness/broken-server.js';
import { CHUNK, MiB, md5Base64, randomData } from './harness/gcs.js';
import { pieces, readObject, testOptions } from './harness/client.js';
import { SpoolProcess } from './harness/spool-process.js';
import { TcpProxy } from './harness/tcp-proxy.js';

let spool: SpoolProcess;
before(async () => {
  spool = await SpoolProcess.start();
});
after(async () => spool.stop());

const servers: BrokenServer[] = [];
after(async () => Promise.all(servers.map((s) => s.close())));

/**
 * A server that follows the protocol (it keeps every byte sent, answers 308 with the Range, and
 * the object with its hashes at the end), except where `twist` answers first.
 */
async function brokenServer(
  twist: (request: Received, state: Honest) => Answer | undefined,
): Promise<BrokenServer> {
  const state = new Honest();
  const server = await BrokenServer.start(
    (request) => twist(request, state) ?? state.answer(request, server),
  );
  servers.push(server);
  return server;
}

class Honest {
  stored = Buffer.alloc(0);
  generation = 0;

  answer(request: Received, server: BrokenServer): Answer {
    if (request.method === 'POST') return { status: 200, headers: { location: server.sessionUri } };
    if (request.method === 'DELETE') return { status: 204 };
    const refused = this.receive(request);
    if (refused) return refused;
    const total = parseContentRange(String(request.headers['content-range']));
    if (total.ok && total.value.total === this.stored.length) return this.object();
    return this.incomplete();
  }

  /** Keeps the bytes of a PUT that the server does not have yet; an answer if it refuses. */
  receive(request: Received): Answer | undefined {
    const parsed = parseContentRange(String(request.headers['content-range']));
    if (!parsed.ok) return { status: 400, body: 'bad range' };
    const range = parsed.value;
    if (range.kind !== 'bytes') return undefined;
    const skip = this.stored.length - range.first;
    if (skip < 0) {
      const error = offsetBeyondPersisted(range.first, this.stored.length);
      return {
        status: error.status,
        headers: { 'content-type': 'text/plain' },
        body: error.message,
      };
    }
    this.stored = Buffer.concat([this.stored, request.body.subarray(skip)]);
    return undefined;
  }

  incomplete(persisted = this.stored.length): Answer {
    return { status: 308, headers: persisted > 0 ? { range: `bytes=0-${persisted - 1}` } : {} };
  }

  object(overrides: Record<string, string> = {}): Answer {
    const hashes = new UploadHasher().update(this.stored).digests();
    this.generation++;
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'storage#object',
        bucket: 'bucket-1',
        name: 'object',
        generation: String(this.generation),
        size: String(this.stored.length),
        ...hashes,
        ...overrides,
      }),
    };
  }
}

const isQuery = (r: Received) => r.headers['content-range'] === 'bytes */*';
const dataRequests = (s: BrokenServer) =>
  s.received.filter((r) => r.method === 'PUT' && !isQuery(r));
const finalRequests = (s: BrokenServer) =>
  s.received.filter((r) => r.headers['x-goog-hash'] !== undefined);

describe('bad input', () => {
  it('a chunk size that is not a multiple of 256 KiB is refused before any request', async () => {
    const server = await brokenServer(() => undefined);
    for (const chunkSize of [1000, 300 * 1024, CHUNK + 1]) {
      await assert.rejects(
        upload(randomData(10), 'gs://bucket-1/object', { ...testOptions(server.url), chunkSize }),
        (error: Error) => {
          assert.ok(error instanceof InvalidOptionsError);
          assert.match(
            error.message,
            new RegExp(`multiple of 256 KiB \\(262144 bytes\\).*got ${chunkSize} bytes`),
          );
          return true;
        },
      );
    }
    assert.equal(server.received.length, 0);
  });

  it('an endpoint where nothing listens is reported at once, naming it', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(
      upload(randomData(10), 'gs://bucket-1/object', testOptions(`http://127.0.0.1:${port}`)),
      (error: Error) => {
        assert.ok(error instanceof NetworkError);
        assert.match(
          error.message,
          new RegExp(`Cannot reach http://127.0.0.1:${port} when starting an upload session`),
        );
        assert.match(error.message, /connection was refused \(ECONNREFUSED\)/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, 'no minutes of backoff for a wrong endpoint');
  });

  it('a bucket that does not exist: the 404 and the question to ask', async () => {
    await assert.rejects(
      upload(randomData(10), 'gs://no-such-bucket/object', testOptions(spool.url)),
      (error: Error) => {
        assert.ok(error instanceof HttpError);
        assert.equal(error.status, 404);
        assert.match(
          error.message,
          /The specified bucket does not exist\. Does the bucket "no-such-bucket" exist at http/,
        );
        return true;
      },
    );
  });

  it('401 and 403 from a server that wants tokens: no retry, and what to do about credentials', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-tokens-'));
    await writeFile(
      join(dir, 'tokens'),
      'good-token-0123456789abcdef0123\nother-token-0123456789abcdef012 other-bucket\n',
    );
    const guarded = await SpoolProcess.start({ args: ['--token-file', join(dir, 'tokens')] });
    try {
      const data = randomData(MiB);
      await assert.rejects(
        upload(data, 'gs://test-bucket/guarded.bin', testOptions(guarded.url)),
        (error: Error) => {
          assert.ok(error instanceof HttpError);
          assert.equal(error.status, 401);
          assert.match(
            error.message,
            /The server wants credentials: set a bearer token \(\$SPOOL_TOKEN, or the token option\)/,
          );
          return true;
        },
      );
      await assert.rejects(
        upload(data, 'gs://test-bucket/guarded.bin', {
          ...testOptions(guarded.url),
          token: 'other-token-0123456789abcdef012',
        }),
        (error: Error) => {
          assert.ok(error instanceof HttpError);
          assert.equal(error.status, 403);
          assert.match(
            error.message,
            /The bearer token was refused: check that it is valid and may use this bucket/,
          );
          return true;
        },
      );
      const object = await upload(data, 'gs://test-bucket/guarded.bin', {
        ...testOptions(guarded.url),
        token: () => Promise.resolve('good-token-0123456789abcdef0123'),
      });
      assert.equal(object.md5Hash, md5Base64(data));
    } finally {
      await guarded.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('servers that contradict themselves', () => {
  it('a Range that goes backwards is data loss: no further byte, no final request', async () => {
    const server = await brokenServer((r, state) => {
      if (dataRequests(server).length === 2 && !isQuery(r) && r.method === 'PUT') {
        state.receive(r);
        return state.incomplete(100); // it had acknowledged 256 KiB before
      }
      return undefined;
    });
    await assert.rejects(
      upload(Readable.from(pieces(randomData(2 * MiB), 65536)), 'gs://bucket-1/object', {
        ...testOptions(server.url),
        chunkSize: CHUNK,
      }),
      (error: Error) => {
        assert.ok(error instanceof DataLossError);
        assert.equal(error.scenario, 'server-lost-acknowledged');
        assert.equal(error.clientOffset, CHUNK);
        assert.equal(error.serverOffset, 100);
        assert.match(
          error.message,
          /reports 100 byte\(s\) stored, but it had acknowledged 262144 byte\(s\) earlier/,
        );
        return true;
      },
    );
    assert.equal(dataRequests(server).length, 2);
    assert.equal(finalRequests(server).length, 0);
  });

  it('a Range past what was sent is data loss, for a stream and for a file', async () => {
    for (const chunkSize of [CHUNK, undefined]) {
      const server = await brokenServer((r, state) => {
        if (r.method === 'PUT' && !isQuery(r)) {
          state.receive(r);
          return state.incomplete(state.stored.length + MiB);
        }
        return undefined;
      });
      const data = randomData(3 * MiB);
      await assert.rejects(
        upload(chunkSize ? Readable.from([data]) : data, 'gs://bucket-1/object', {
          ...testOptions(server.url),
          chunkSize,
        }),
        (error: Error) => {
          assert.ok(error instanceof DataLossError);
          assert.equal(error.scenario, 'server-ahead-of-sent');
          assert.match(
            error.message,
            /has sent only \d+ byte\(s\)\. This happens when two clients upload to the same session, or when the server loses data/,
          );
          return true;
        },
      );
      assert.equal(dataRequests(server).length, 1);
      assert.equal(finalRequests(server).length, 0);
    }
  });

  it('GCS\'s "exceeds already uploaded size" 503 is data loss, not retried', async () => {
    const server = await brokenServer((r) => {
      if (r.method === 'PUT' && !isQuery(r) && dataRequests(server).length === 2) {
        const error = offsetBeyondPersisted(CHUNK, 0);
        return {
          status: 503,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: error.message,
        };
      }
      return undefined;
    });
    await assert.rejects(
      upload(Readable.from([randomData(MiB)]), 'gs://bucket-1/object', {
        ...testOptions(server.url),
        chunkSize: CHUNK,
      }),
      (error: Error) => {
        assert.ok(error instanceof DataLossError);
        assert.match(error.message, /the server has 0 byte\(s\), fewer than the 262144/);
        return true;
      },
    );
    assert.equal(dataRequests(server).length, 2);
  });

  it('an object whose hashes do not match what was sent is deleted, that generation only', async () => {
    const server = await brokenServer((r, state) => {
      if (r.method === 'PUT' && r.headers['x-goog-hash'] !== undefined) {
        state.receive(r);
        return state.object({ crc32c: 'AAAAAA==' });
      }
      return undefined;
    });
    await assert.rejects(
      upload(randomData(MiB), 'gs://bucket-1/object', testOptions(server.url)),
      (error: Error) => {
        assert.ok(error instanceof IntegrityError);
        assert.match(error.message, /crc32c AAAAAA==, not .*It has been deleted \(generation 1\)/);
        return true;
      },
    );
    const deletes = server.received.filter((r) => r.method === 'DELETE');
    assert.deepEqual(
      deletes.map((r) => r.url),
      ['/storage/v1/b/bucket-1/o/object?ifGenerationMatch=1'],
    );
  });
});

describe('failures worth waiting out', () => {
  it('Retry-After is honoured, then the upload goes on', async () => {
    let refused = false;
    const server = await brokenServer((r) => {
      if (r.method === 'PUT' && !refused) {
        refused = true;
        return { status: 429, headers: { 'retry-after': '2' }, body: 'slow down' };
      }
      return undefined;
    });
    const retries: RetryEvent[] = [];
    const data = randomData(MiB);
    const task = await createUpload(data, 'gs://bucket-1/object', testOptions(server.url));
    task.on('retry', (r) => retries.push(r));
    const object = await task.start();
    assert.equal(object.md5Hash, md5Base64(data));
    assert.equal(retries.length, 1);
    assert.ok(retries[0]!.delay >= 2000, `waited ${retries[0]!.delay} ms`);
  });

  it('a complete answer cut short is asked for again, and the object checked', async () => {
    let cut = false;
    const server = await brokenServer((r, state) => {
      if (r.headers['x-goog-hash'] !== undefined && !cut) {
        cut = true;
        const full = state.answer(r, server);
        return { ...full, body: full.body!.slice(0, 10) };
      }
      return undefined;
    });
    const data = randomData(MiB);
    const object = await upload(data, 'gs://bucket-1/object', testOptions(server.url));
    assert.equal(object.md5Hash, md5Base64(data));
    assert.equal(server.received.filter(isQuery).length, 1);
  });

  it('gives up after the retries without progress, saying how many and what failed last', async () => {
    const server = await brokenServer((r) =>
      r.method === 'PUT' ? { status: 503, body: 'backend unavailable' } : undefined,
    );
    await assert.rejects(
      upload(randomData(MiB), 'gs://bucket-1/object', {
        ...testOptions(server.url),
        retry: { initialDelay: 1, retries: 3 },
      }),
      (error: Error) => {
        assert.ok(error instanceof GaveUpError);
        assert.match(
          error.message,
          /Gave up after 3 retries in a row without progress \(retry\.retries\); the server has 0 byte\(s\) of 1048576\. Last failure: The server answered 503/,
        );
        return true;
      },
    );
    // The first attempt, then three retries, each a status query before the data again.
    assert.equal(server.received.filter((r) => r.method === 'PUT').length, 4);
  });

  it('with retries off, says so instead of "retry limit exceeded"', async () => {
    const server = await brokenServer((r) => (r.method === 'PUT' ? { status: 503 } : undefined));
    await assert.rejects(
      upload(randomData(10), 'gs://bucket-1/object', {
        ...testOptions(server.url),
        retry: { retries: 0 },
      }),
      /Retries are off \(retry\.retries is 0\), so the first failure ends the upload/,
    );
  });

  it('stops at the deadline, saying so', async () => {
    const server = await brokenServer((r) => (r.method === 'PUT' ? { status: 503 } : undefined));
    await assert.rejects(
      upload(randomData(10), 'gs://bucket-1/object', {
        ...testOptions(server.url),
        retry: { initialDelay: 50, retries: 1000, deadline: 400 },
      }),
      (error: Error) => {
        assert.ok(error instanceof GaveUpError);
        assert.match(error.message, /did not finish within its deadline of 400 ms/);
        return true;
      },
    );
  });

  it('survives the server being killed and restarted in the middle', async () => {
    const proxy = await TcpProxy.start(spool.url);
    try {
      const data = randomData(16 * MiB);
      const task = await createUpload(
        Readable.from(pieces(data, 65536)),
        'gs://test-bucket/restarted.bin',
        {
          ...testOptions(proxy.url),
          chunkSize: MiB,
          retry: { initialDelay: 100, maxDelay: 500, retries: 20 },
        },
      );
      let restarting: Promise<void> | undefined;
      const retries: RetryEvent[] = [];
      task.on('retry', (r) => retries.push(r));
      task.on('progress', (p) => {
        if (!restarting && p.acknowledged >= 4 * MiB) {
          restarting = (async () => {
            spool = await spool.restart();
            proxy.retarget(spool.url);
          })();
        }
      });
      const object = await task.start();
      await restarting;
      assert.ok(retries.length > 0, 'the restart was felt');
      assert.equal(object.md5Hash, md5Base64(data));
      assert.deepEqual(await readObject(spool.url, 'restarted.bin'), data);
    } finally {
      await proxy.close();
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
