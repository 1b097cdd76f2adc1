// The client library (@spool/client/node) against a real `spool serve`, through a TCP proxy that
// records what goes over the wire: every kind of source, both modes, progress, abort and resume,
// pause, sessions given by URI or lost on the way, stalls.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  MemoryStateStore,
  SessionGoneError,
  StallError,
  createUpload,
  fileSource,
  normalizeEndpoint,
  resumeKey,
  upload,
  type RetryEvent,
  type SessionEvent,
} from '@spool/client/node';
import {
  CHUNK,
  MiB,
  initiate,
  md5Base64,
  putChunk,
  query,
  randomData,
  storedBytes,
} from './harness/gcs.js';
import { send } from './harness/http.js';
import {
  ProgressLog,
  pieces,
  readObject,
  scratchDir,
  sourceKinds,
  testOptions,
  writeScratch,
} from './harness/client.js';
import { SpoolProcess } from './harness/spool-process.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { Readable } from 'node:stream';

let spool: SpoolProcess;
let proxy: TcpProxy;
const dir = await scratchDir();

before(async () => {
  spool = await SpoolProcess.start();
  proxy = await TcpProxy.start(spool.url);
});
after(async () => {
  await proxy.close();
  await spool.stop();
});

/** The session URI as the server itself is reached (the client saw the proxy's address). */
const direct = (uri: string) => uri.replace(proxy.url, spool.url);

describe('uploads from every kind of source', () => {
  const data = randomData(3 * MiB + 12_345);
  const md5 = md5Base64(data);

  for (const kind of sourceKinds) {
    for (const chunkSize of kind.stream ? [CHUNK, undefined] : [undefined, MiB]) {
      const mode =
        chunkSize === undefined
          ? kind.stream
            ? '8 MiB chunks (default)'
            : 'one streaming request'
          : `${chunkSize / 1024} KiB chunks`;
      // Every kind of source both ways: with CRC32C alone (the default), and with MD5 too.
      const withMd5 = chunkSize !== undefined;
      it(`${kind.name}, ${mode}${withMd5 ? ', md5' : ''}: byte-identical, hashes sent and checked, progress never backwards`, async () => {
        const path = await writeScratch(dir, 'source.bin', data);
        const name = `sources/${kind.name}/${mode}`;
        const progress = new ProgressLog();
        const before = proxy.requests.length;
        const object = await upload(kind.make(data, path), `gs://test-bucket/${name}`, {
          ...testOptions(proxy.url),
          chunkSize,
          md5: withMd5,
          onProgress: progress.listener,
        });
        assert.equal(object.size, String(data.length));
        assert.equal(object.md5Hash, md5);
        assert.deepEqual(await readObject(spool.url, name), data);

        const puts = proxy.requests.slice(before).filter((r) => r.method === 'PUT');
        const final = puts[puts.length - 1]!;
        assert.equal(
          final.headers['x-goog-hash'],
          withMd5 ? `crc32c=${object.crc32c},md5=${md5}` : `crc32c=${object.crc32c}`,
        );
        assert.ok(puts.slice(0, -1).every((r) => r.headers['x-goog-hash'] === undefined));
        if (chunkSize === undefined && !kind.stream) {
          // All but the last partial 256 KiB in one request; the rest with the hashes.
          assert.deepEqual(
            puts.map((r) => r.headers['content-range']),
            [
              `bytes 0-${3 * MiB - 1}/${data.length}`,
              `bytes ${3 * MiB}-${data.length - 1}/${data.length}`,
            ],
          );
        } else {
          const size = chunkSize ?? 8 * MiB;
          assert.equal(puts.length, Math.ceil(data.length / size));
        }

        assert.deepEqual(progress.backwards, []);
        assert.equal(progress.last?.acknowledged, data.length);
        assert.equal(progress.last?.sent, data.length);
        assert.equal(progress.last?.total, data.length);
      });
    }
  }

  it('an empty source of each kind makes an empty object', async () => {
    const path = await writeScratch(dir, 'empty.bin', Buffer.alloc(0));
    for (const kind of sourceKinds) {
      const name = `empty/${kind.name}`;
      const object = await upload(
        kind.make(Buffer.alloc(0), path),
        `gs://test-bucket/${name}`,
        testOptions(proxy.url),
      );
      assert.equal(object.size, '0', kind.name);
      assert.equal(object.md5Hash, md5Base64(Buffer.alloc(0)));
    }
    assert.equal(proxy.requests[proxy.requests.length - 1]!.headers['content-range'], 'bytes */0');
  });

  it('a stream that ends exactly on a chunk boundary still finishes with its total', async () => {
    const exact = randomData(4 * CHUNK);
    const object = await upload(Readable.from(pieces(exact, 50_000)), 'gs://test-bucket/exact', {
      ...testOptions(proxy.url),
      chunkSize: 2 * CHUNK,
    });
    assert.equal(object.md5Hash, md5Base64(exact));
    const ranges = proxy.requests.slice(-2).map((r) => r.headers['content-range']);
    assert.deepEqual(ranges, [
      `bytes 0-${2 * CHUNK - 1}/*`,
      `bytes ${2 * CHUNK}-${4 * CHUNK - 1}/${4 * CHUNK}`,
    ]);
  });
});

describe('stopping and continuing', () => {
  it('an aborted upload resumes on the same session, sending only what the server lacks', async () => {
    const data = randomData(8 * MiB);
    const path = await writeScratch(dir, 'abort.bin', data);
    const store = new MemoryStateStore();
    const abort = new AbortController();
    const first = await createUpload(path, 'gs://test-bucket/abort.bin', {
      ...testOptions(proxy.url),
      chunkSize: MiB,
      stateStore: store,
      signal: abort.signal,
    });
    first.on('progress', (p) => {
      if (p.acknowledged >= 3 * MiB) abort.abort();
    });
    await assert.rejects(first.start(), { name: 'AbortError' });
    const uri = first.sessionUri!;
    const stored = storedBytes(await query(direct(uri)));
    assert.ok(stored >= 3 * MiB && stored < data.length, `the server has ${stored}`);

    const sessions: SessionEvent[] = [];
    const bodyBefore = proxy.bodyBytesUp;
    const second = await createUpload(path, 'gs://test-bucket/abort.bin', {
      ...testOptions(proxy.url),
      chunkSize: MiB,
      stateStore: store,
    });
    second.on('session', (s) => sessions.push(s));
    const object = await second.start();
    assert.deepEqual(sessions, [{ uri, resumed: true, replaced: false }]);
    assert.equal(proxy.bodyBytesUp - bodyBefore, data.length - stored, 'only the missing bytes');
    assert.equal(object.md5Hash, md5Base64(data));
  });

  it('pause stops all traffic until resume, and the upload ends byte-identical', async () => {
    const data = randomData(6 * MiB);
    const task = await createUpload(
      Readable.from(pieces(data, 64 * 1024)),
      'gs://test-bucket/paused.bin',
      {
        ...testOptions(proxy.url),
        chunkSize: MiB,
      },
    );
    let paused = false;
    const pausedNow = new Promise<void>((resolve) =>
      task.on('progress', (p) => {
        if (!paused && p.acknowledged >= 2 * MiB) {
          paused = true;
          task.pause();
          resolve();
        }
      }),
    );
    const done = task.start();
    await pausedNow;
    await new Promise((r) => setTimeout(r, 100));
    const bytes = proxy.bytesUp;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(proxy.bytesUp, bytes, 'nothing is sent while paused');
    task.resume();
    const object = await done;
    assert.equal(object.md5Hash, md5Base64(data));
    assert.deepEqual(await readObject(spool.url, 'paused.bin'), data);
  });

  it('uploads into a session someone else started, given by its URI', async () => {
    const uri = await initiate(proxy.url, 'test-bucket', 'given-session.bin');
    const data = randomData(MiB + 1);
    const object = await upload(data, { sessionUri: uri }, testOptions(proxy.url));
    assert.equal(object.name, 'given-session.bin');
    assert.equal(object.md5Hash, md5Base64(data));
  });

  it('a remembered session the server no longer knows is replaced quietly', async () => {
    const data = randomData(2 * MiB);
    const path = await writeScratch(dir, 'stale.bin', data);
    const store = new MemoryStateStore();
    const abort = new AbortController();
    const first = await createUpload(path, 'gs://test-bucket/stale.bin', {
      ...testOptions(proxy.url),
      chunkSize: CHUNK,
      stateStore: store,
      signal: abort.signal,
    });
    first.on('progress', (p) => p.acknowledged > 0 && abort.abort());
    await assert.rejects(first.start());
    const cancelled = await send({ method: 'DELETE', url: direct(first.sessionUri!) });
    assert.equal(cancelled.status, 499);

    const sessions: SessionEvent[] = [];
    const second = await createUpload(path, 'gs://test-bucket/stale.bin', {
      ...testOptions(proxy.url),
      stateStore: store,
    });
    second.on('session', (s) => sessions.push(s));
    const object = await second.start();
    assert.equal(object.md5Hash, md5Base64(data));
    assert.equal(sessions.length, 2);
    assert.deepEqual(sessions[0], { uri: first.sessionUri, resumed: true, replaced: false });
    assert.equal(sessions[1]!.resumed, false);
    assert.notEqual(sessions[1]!.uri, first.sessionUri);
  });
  it('a remembered session that completed before the process died gives its object, checked, sending nothing', async () => {
    const data = randomData(MiB + 5);
    const path = await writeScratch(dir, 'done.bin', data);
    const done = await initiate(proxy.url, 'test-bucket', 'done.bin');
    assert.equal(
      (await putChunk(direct(done), `bytes 0-${data.length - 1}/${data.length}`, data)).status,
      200,
    );
    const store = new MemoryStateStore();
    const key = resumeKey({
      endpoint: normalizeEndpoint(proxy.url),
      bucket: 'test-bucket',
      object: 'done.bin',
      fingerprint: (await fileSource(path)).fingerprint!,
      initiation: [{}, {}],
    });
    await store.set(key, { sessionUri: done, createdAt: Date.now() });
    const bodyBefore = proxy.bodyBytesUp;
    const object = await upload(path, 'gs://test-bucket/done.bin', {
      ...testOptions(proxy.url),
      stateStore: store,
    });
    assert.equal(object.md5Hash, md5Base64(data));
    assert.equal(proxy.bodyBytesUp, bodyBefore, 'not a byte sent again');
    assert.equal(await store.get(key), undefined);
  });

  it('a remembered session older than a week is not used: a new one starts', async () => {
    const data = randomData(MiB);
    const path = await writeScratch(dir, 'old.bin', data);
    const old = await initiate(proxy.url, 'test-bucket', 'old.bin');
    const store = new MemoryStateStore();
    const key = resumeKey({
      endpoint: normalizeEndpoint(proxy.url),
      bucket: 'test-bucket',
      object: 'old.bin',
      fingerprint: (await fileSource(path)).fingerprint!,
      initiation: [{}, {}],
    });
    await store.set(key, { sessionUri: old, createdAt: Date.now() - 8 * 24 * 3600 * 1000 });
    const sessions: SessionEvent[] = [];
    const task = await createUpload(path, 'gs://test-bucket/old.bin', {
      ...testOptions(proxy.url),
      stateStore: store,
    });
    task.on('session', (s) => sessions.push(s));
    assert.equal((await task.start()).md5Hash, md5Base64(data));
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.resumed, false);
    assert.notEqual(sessions[0]!.uri, old);
    assert.equal(storedBytes(await query(direct(old))), 0, 'the old session was left alone');
    assert.equal(await store.get(key), undefined, 'and forgotten once the upload is done');
  });
});

describe('sessions lost in the middle', () => {
  it('a file starts over on a new session when its session is cancelled mid-way', async () => {
    const data = randomData(3 * MiB);
    const path = await writeScratch(dir, 'restart.bin', data);
    const sessions: SessionEvent[] = [];
    const task = await createUpload(path, 'gs://test-bucket/restart.bin', {
      ...testOptions(proxy.url),
      chunkSize: CHUNK,
    });
    task.on('session', (s) => sessions.push(s));
    let cancelled: Promise<unknown> | undefined;
    task.on('progress', (p) => {
      if (!cancelled && p.acknowledged >= MiB) {
        cancelled = send({ method: 'DELETE', url: direct(task.sessionUri!) });
      }
    });
    const object = await task.start();
    assert.equal(object.md5Hash, md5Base64(data));
    assert.deepEqual(await readObject(spool.url, 'restart.bin'), data);
    assert.equal(sessions.length, 2);
    assert.equal(sessions[1]!.replaced, true);
  });

  it('a stream past its first chunk cannot start over: a clear error, no object', async () => {
    const data = randomData(3 * MiB);
    const task = await createUpload(
      Readable.from(pieces(data, 64 * 1024)),
      'gs://test-bucket/lost-stream.bin',
      {
        ...testOptions(proxy.url),
        chunkSize: CHUNK,
      },
    );
    let cancelled = false;
    task.on('progress', (p) => {
      if (!cancelled && p.acknowledged >= MiB) {
        cancelled = true;
        void send({ method: 'DELETE', url: direct(task.sessionUri!) });
      }
    });
    await assert.rejects(task.start(), (error: Error) => {
      assert.ok(error instanceof SessionGoneError);
      assert.match(error.message, /stream cannot be read again from its start/);
      assert.match(error.message, /answered 410/);
      return true;
    });
    const res = await send({
      method: 'GET',
      url: `${spool.url}/storage/v1/b/test-bucket/o/lost-stream.bin`,
    });
    assert.equal(res.status, 404);
  });
});

describe('stalls', () => {
  it('a connection that goes silent is abandoned after the stall timeout and the upload continues', async () => {
    const data = randomData(4 * MiB);
    proxy.freezeAt(proxy.bytesUp + MiB + 5000);
    const retries: RetryEvent[] = [];
    const task = await createUpload(data, 'gs://test-bucket/stalled.bin', {
      ...testOptions(proxy.url),
      stallTimeout: 500,
    });
    task.on('retry', (r) => retries.push(r));
    const object = await task.start();
    assert.equal(object.md5Hash, md5Base64(data));
    assert.equal(retries.length, 1);
    assert.ok(retries[0]!.error instanceof StallError);
    assert.match(
      retries[0]!.error.message,
      /no byte was accepted by the network and no response arrived for 500 ms/,
    );
  });
});
