// The hashing thread: CRC32C and MD5 of every upload in progress, off the thread that serves
// requests. Each stream keeps its hash state at the last 256 KiB boundary it passed, because
// that is where an interrupted upload is kept to.
import { parentPort } from 'node:worker_threads';
import { CHUNK_GRANULARITY, UploadHasher, type HashState } from '@spool/core';
import { useNativeCrc32c } from '@spool/core/native';
import type { ToHashWorker } from './hash-offload.js';

useNativeCrc32c();

interface Stream {
  readonly hasher: UploadHasher;
  boundary: { offset: number; hash: HashState };
}

const streams = new Map<number, Stream>();
const port = parentPort!;

port.on('message', (message: ToHashWorker) => {
  switch (message.op) {
    case 'open':
      streams.set(message.id, {
        hasher: new UploadHasher(message.state),
        boundary: { offset: message.state.length, hash: message.state },
      });
      return;
    case 'data': {
      const stream = streams.get(message.id);
      if (!stream) return;
      const bytes = new Uint8Array(message.bytes);
      for (let p = 0; p < bytes.length;) {
        const at = stream.hasher.length;
        const step = Math.min(bytes.length - p, CHUNK_GRANULARITY - (at % CHUNK_GRANULARITY));
        stream.hasher.update(bytes.subarray(p, p + step));
        p += step;
        const reached = stream.hasher.length;
        if (reached % CHUNK_GRANULARITY === 0)
          stream.boundary = { offset: reached, hash: stream.hasher.save() };
      }
      port.postMessage({ op: 'ack', id: message.id, bytes: bytes.length });
      return;
    }
    case 'snapshot': {
      const stream = streams.get(message.id);
      if (!stream) return;
      port.postMessage({
        op: 'snapshot',
        id: message.id,
        request: message.request,
        boundary: stream.boundary,
        end: { offset: stream.hasher.length, hash: stream.hasher.save() },
      });
      return;
    }
    case 'close':
      streams.delete(message.id);
      return;
  }
});
