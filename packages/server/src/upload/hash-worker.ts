// The hashing thread: CRC32C and MD5 of the uploads in progress, off the thread that serves
// requests.
import { parentPort } from 'node:worker_threads';
import { useNativeCrc32c } from '@spool/core/native';
import { BoundaryHasher } from './boundary-hasher.js';
import type { ToHashWorker } from './hash-offload.js';

useNativeCrc32c();

const streams = new Map<number, BoundaryHasher>();
const port = parentPort!;

port.on('message', (message: ToHashWorker) => {
  switch (message.op) {
    case 'open':
      streams.set(message.id, new BoundaryHasher(message.points));
      return;
    case 'data': {
      const bytes = new Uint8Array(message.bytes);
      streams.get(message.id)?.update(bytes);
      // The buffer goes back to be filled again.
      port.postMessage({ op: 'ack', id: message.id, hashed: bytes.length, buffer: message.bytes }, [
        message.bytes,
      ]);
      return;
    }
    case 'snapshot': {
      const stream = streams.get(message.id);
      if (!stream) return;
      port.postMessage({
        op: 'snapshot',
        id: message.id,
        request: message.request,
        points: stream.points(),
      });
      return;
    }
    case 'close':
      streams.delete(message.id);
      return;
  }
});
