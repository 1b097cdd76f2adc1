import { fstatSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';

const PIECE = 1024 * 1024;

/**
 * Standard input as a stream source that reads into one reused buffer: no garbage per read, so
 * an upload's memory stays at its chunk buffer however long the stream. (process.stdin allocates
 * a buffer per read, and the garbage piles up to tens of MiB between collections.) Each piece is
 * valid until the next one is pulled, which is all an upload needs: it copies pieces into its
 * chunk buffer. A terminal, or anything else, is read through process.stdin.
 */
export function stdinSource(): AsyncIterable<Uint8Array> {
  const info = fstatSync(0);
  if (info.isFIFO() || info.isSocket()) return socketPieces(0);
  if (info.isFile()) return filePieces(0);
  return process.stdin;
}

async function* socketPieces(fd: number): AsyncGenerator<Uint8Array> {
  let piece: Uint8Array | undefined;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  // Node takes `onread` here too (as for net.connect), though its typings list it only there.
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: Buffer.allocUnsafe(PIECE),
      callback: (bytes: number, buffer: Uint8Array) => {
        piece = buffer.subarray(0, bytes);
        wake?.();
        // Read nothing more into the buffer until this piece has been taken.
        return false;
      },
    },
  };
  const socket = new Socket(options);
  socket.on('end', () => {
    ended = true;
    wake?.();
  });
  socket.on('error', (error) => {
    failure = error;
    wake?.();
  });
  try {
    while (true) {
      if (piece === undefined && !ended && failure === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (failure) throw failure;
      if (piece !== undefined) {
        const next = piece;
        piece = undefined;
        yield next;
        socket.resume();
      } else if (ended) return;
    }
  } finally {
    socket.destroy();
  }
}

async function* filePieces(fd: number): AsyncGenerator<Uint8Array> {
  const handle = await open(`/dev/fd/${fd}`, 'r');
  try {
    const buffer = Buffer.allocUnsafe(PIECE);
    while (true) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
