// Three things the browser needs from the client, tested here through the Node transport
// against a real `spool serve`: cancel() (the session goes on the server too), an upload started
// through a V4 signed URL (the app's backend signs, the client starts the session and resumes it
// under a newer signature), and the device's network state (offline failures spend no retries,
// and the network coming back ends the wait at once).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signUrl, loadSigningCredential } from '@spool/server';
import {
  CancelledError,
  InvalidOptionsError,
  MemoryStateStore,
  NetworkError,
  createUpload,
  normalizeEndpoint,
  resumeKey,
  type Connectivity,
  type RetryEvent,
  type SessionEvent,
} from '@spool/client/node';
import { MiB, md5Base64, query, randomData, storedBytes } from './harness/gcs.js';
import { readObject, testOptions } from './harness/client.js';
import { SpoolProcess, repoRoot } from './harness/spool-process.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { send } from './harness/http.js';

const keyFile = `${repoRoot}/tests/fixtures/conformance/test_service_account.not-a-test.json`;
let spool: SpoolProcess;
let proxy: TcpProxy;

before(async () => {
  spool = await SpoolProcess.start({ args: ['--signing-key', keyFile] });
  proxy = await TcpProxy.start(spool.url);
});
after(async () => {
  await proxy.close();
  await spool.stop();
});

const direct = (uri: string) => uri.replace(proxy.url, spool.url);

/** Bytes in pieces, holding back everything after the first `held` bytes until `release`. */
function heldStream(data: Buffer, held: number) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  async function* pieces() {
    yield data.subarray(0, held);
    await released;
    yield data.subarray(held);
  }
  return { stream: pieces(), release };
}

describe('cancel()', () => {
  it('ends the upload with a CancelledError, cancels the session on the server and forgets it', async () => {
    const data = randomData(3 * MiB);
    const { stream, release } = heldStream(data, MiB);
    const store = new MemoryStateStore();
    const task = await createUpload(stream, 'gs://test-bucket/cancelled.bin', {
      ...testOptions(proxy.url),
      chunkSize: MiB / 4,
      stateStore: store,
      fingerprint: 'cancel-test',
    });
    const acknowledged = new Promise<void>((resolve) =>
      task.on('progress', (p) => p.acknowledged >= MiB / 2 && resolve()),
    );
    const done = task.start();
    await acknowledged;
    const key = resumeKey({
      endpoint: normalizeEndpoint(proxy.url),
      bucket: 'test-bucket',
      object: 'cancelled.bin',
      fingerprint: 'cancel-test',
      initiation: [{}, {}],
    });
    assert.ok(await store.get(key), 'the session is remembered while it runs');
    await task.cancel();
    await assert.rejects(done, CancelledError);
    release();
    assert.equal((await query(direct(task.sessionUri!))).status, 410);
    assert.equal(await store.get(key), undefined, 'the session is forgotten');
    const res = await send({
      method: 'GET',
      url: `${spool.url}/storage/v1/b/test-bucket/o/cancelled.bin`,
    });
    assert.equal(res.status, 404);
  });

  it('before any session exists, it only stops the upload', async () => {
    const task = await createUpload(randomData(10), 'gs://test-bucket/never.bin', {
      ...testOptions(proxy.url),
    });
    await task.cancel();
    await assert.rejects(task.start(), CancelledError);
    assert.equal(task.sessionUri, undefined);
  });
});

describe('a signed URL as the destination', () => {
  const credential = loadSigningCredential({ keyFile });
  const sign = async (object: string, expiresInSeconds = 600) =>
    signUrl(await credential, {
      method: 'POST',
      url: `${proxy.url}/test-bucket/${object}`,
      headers: { 'x-goog-resumable': 'start' },
      expiresInSeconds,
      now: Date.now(),
    });

  it('starts the session through the XML API, with the metadata as headers, and checks the object', async () => {
    const data = randomData(MiB + 7);
    const task = await createUpload(
      data,
      { signedUrl: await sign('signed/photo.jpg') },
      {
        ...testOptions(proxy.url),
        metadata: { contentType: 'image/jpeg', metadata: { camera: 'front' } },
      },
    );
    const object = await task.start();
    assert.equal(object.size, String(data.length));
    assert.equal(object.md5Hash, md5Base64(data));
    const meta = await send({
      method: 'GET',
      url: `${spool.url}/storage/v1/b/test-bucket/o/signed%2Fphoto.jpg`,
    });
    const resource = meta.json<{ contentType: string; metadata: Record<string, string> }>();
    assert.equal(resource.contentType, 'image/jpeg');
    assert.deepEqual(resource.metadata, { camera: 'front' });
    assert.deepEqual(await readObject(spool.url, 'signed/photo.jpg'), data);
  });

  it('an interrupted upload resumes its session under a newer signature of the same object', async () => {
    const data = randomData(2 * MiB);
    const store = new MemoryStateStore();
    const abort = new AbortController();
    const options = {
      ...testOptions(proxy.url),
      chunkSize: MiB / 4,
      stateStore: store,
      fingerprint: 'signed-resume',
    };
    const first = await createUpload(
      data,
      { signedUrl: await sign('signed/resumed.bin') },
      {
        ...options,
        signal: abort.signal,
      },
    );
    first.on('progress', (p) => p.acknowledged >= MiB / 2 && abort.abort());
    await assert.rejects(first.start(), { name: 'AbortError' });
    const kept = storedBytes(await query(direct(first.sessionUri!)));
    assert.ok(kept >= MiB / 2);

    const sessions: SessionEvent[] = [];
    const body = proxy.bodyBytesUp;
    const second = await createUpload(
      data,
      { signedUrl: await sign('signed/resumed.bin', 900) },
      options,
    );
    second.on('session', (s) => sessions.push(s));
    const object = await second.start();
    assert.deepEqual(sessions, [{ uri: first.sessionUri, resumed: true, replaced: false }]);
    assert.equal(proxy.bodyBytesUp - body, data.length - kept, 'only what the server lacked');
    assert.equal(object.md5Hash, md5Base64(data));
  });

  it('metadata the XML API cannot take is refused before any request', async () => {
    const signedUrl = await sign('signed/refused.bin');
    await assert.rejects(
      createUpload(
        randomData(1),
        { signedUrl },
        {
          ...testOptions(proxy.url),
          metadata: { customTime: '2030-01-01T00:00:00Z' },
        },
      ),
      (error: Error) =>
        error instanceof InvalidOptionsError &&
        /metadata.customTime cannot be set/.test(error.message),
    );
    await assert.rejects(
      createUpload(
        randomData(1),
        { signedUrl: `${proxy.url}/test-bucket/x` },
        testOptions(proxy.url),
      ),
      /has no X-Goog-Signature/,
    );
  });
});

/** A device whose network the test turns off and on. */
class TestConnectivity implements Connectivity {
  private state = true;
  private readonly listeners = new Set<(online: boolean) => void>();
  online(): boolean {
    return this.state;
  }
  watch(listener: (online: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(online: boolean): void {
    this.state = online;
    for (const listener of this.listeners) listener(online);
  }
}

describe('the device going offline', () => {
  it('abandons the request in flight, spends no retries while offline, and goes on the moment it is back', async () => {
    const data = randomData(4 * MiB);
    const device = new TestConnectivity();
    // The connection goes silent after 1 MiB; going offline is what ends it, not a stall.
    proxy.freezeAt(proxy.bytesUp + MiB);
    const retries: RetryEvent[] = [];
    const network: boolean[] = [];
    const task = await createUpload(data, 'gs://test-bucket/offline.bin', {
      ...testOptions(proxy.url),
      connectivity: device,
      stallTimeout: 60_000,
      // Without the network coming back, the first wait alone would outlast the test; and any
      // failure counted would end the upload at once.
      retry: { retries: 0, initialDelay: 600_000, maxDelay: 600_000 },
    });
    task.on('retry', (r) => retries.push(r));
    task.on('network', ({ online }) => network.push(online));
    const done = task.start();
    while (proxy.bytesUp < MiB) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    device.set(false);
    while (retries.length === 0) await new Promise((r) => setTimeout(r, 10));
    assert.ok(retries[0]!.error instanceof NetworkError);
    assert.match(retries[0]!.error.message, /went offline/);
    device.set(true);
    const object = await done;
    assert.equal(object.md5Hash, md5Base64(data));
    assert.deepEqual(network, [false, true]);
    assert.equal(retries.length, 1);
  });
});
