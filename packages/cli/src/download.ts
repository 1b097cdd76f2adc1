import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { download as downloadObject, parseObjectUrl } from '@spool/client/node';
import { connection, endpointFlag, helpFlag } from './connection.js';
import { formatFlags, parseFlags, UsageError, type FlagSpec } from './flags.js';

export const downloadFlags: readonly FlagSpec[] = [endpointFlag, helpFlag];

export const downloadUsage = `Usage: spool download gs://BUCKET/OBJECT <file|-> [flags]

Writes an object to a file, or to standard output (-), and checks its size, CRC32C and MD5
against what the server declares. A file appears only once it is complete and checked.

Flags:
${formatFlags(downloadFlags)}
`;

export async function download(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags(downloadFlags, argv, process.env);
  if (values['help']) {
    process.stdout.write(downloadUsage);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      'spool download takes gs://BUCKET/OBJECT and a file (or - for standard output).',
    );
  }
  const [from, to] = positionals as [string, string];
  const { bucket, object } = parseObjectUrl(from);
  const bytes = Readable.from(downloadObject(bucket, object, connection(values, process.env)));
  if (to === '-') {
    await pipeline(bytes, process.stdout);
    return 0;
  }
  // Written next to the target and renamed when checked: never a partial or corrupt file under
  // the name asked for.
  const partial = join(dirname(to), `.${basename(to)}.${randomBytes(4).toString('hex')}.part`);
  try {
    await pipeline(bytes, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, to);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return 0;
}
