import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { RequestListener } from 'node:http';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export class TlsConfigError extends Error {}

async function readPair(files: TlsFiles): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (path: string, what: string) =>
    readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new TlsConfigError(
        `Cannot read the TLS ${what} ${path}: ${error.code ?? error.message}.`,
      );
    });
  return { cert: await read(files.certFile, 'certificate'), key: await read(files.keyFile, 'key') };
}

/** An HTTPS server whose certificate can be reloaded (on SIGHUP) without dropping connections. */
export async function createTlsServer(
  files: TlsFiles,
  options: ServerOptions,
  handler: RequestListener,
): Promise<{ server: Server; reload: () => Promise<void> }> {
  const pair = await readPair(files);
  let server: Server;
  try {
    server = createServer({ ...options, ...pair }, handler);
  } catch (error) {
    throw new TlsConfigError(
      `The TLS certificate or key is not usable: ${(error as Error).message}`,
    );
  }
  return {
    server,
    async reload() {
      const next = await readPair(files);
      try {
        server.setSecureContext(next);
      } catch (error) {
        throw new TlsConfigError(
          `The new TLS certificate or key is not usable; keeping the old one: ${(error as Error).message}`,
        );
      }
    },
  };
}
