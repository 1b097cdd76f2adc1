import {
  GaveUpError,
  NetworkError,
  RateMeter,
  StallError,
  createUpload,
  parseObjectUrl,
  redactUrl,
  stdinSource,
  type Upload,
} from '@spool/client/node';
import { connection, endpointFlag, helpFlag } from './connection.js';
import { formatFlags, parseFlags, UsageError, type FlagSpec } from './flags.js';
import { renderProgress } from './progress-bar.js';

export const uploadFlags: readonly FlagSpec[] = [
  endpointFlag,
  {
    name: 'chunk-size',
    env: 'SPOOL_CHUNK_SIZE',
    kind: 'size',
    value: 'SIZE',
    help: 'Send in chunks of this size, a multiple of 256KiB (e.g. 8MiB); standard input always goes in chunks, 8MiB unless set.',
  },
  {
    name: 'md5',
    env: 'SPOOL_MD5',
    kind: 'boolean',
    help: 'Also compute MD5 and have the server and the result checked against it (CRC32C always is).',
  },
  {
    name: 'multipart-threshold',
    env: 'SPOOL_MULTIPART_THRESHOLD',
    kind: 'size',
    value: 'SIZE',
    help: 'Send a file of at most this size in one multipart request instead of a resumable session (an interrupted one is sent again whole; e.g. 8MiB).',
  },
  { name: 'json', kind: 'boolean', help: 'Print the final object resource as JSON on stdout.' },
  helpFlag,
];

export const uploadUsage = `Usage: spool upload <file|-> gs://BUCKET/OBJECT [flags]

Uploads a file, or standard input (-), through a resumable session (a file up to
--multipart-threshold in one request), and checks that the object the server stores has the
size and CRC32C (and with --md5, the MD5) of what was read. Interrupted uploads of a file resume
where they stopped when the same command runs again. A bearer token comes from
$SPOOL_TOKEN. Exit status 0 only when the object is stored and matches.

Flags:
${formatFlags(uploadFlags)}
`;

/** `spool upload`: returns the exit status. */
export async function upload(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags(uploadFlags, argv, process.env);
  if (values['help']) {
    process.stdout.write(uploadUsage);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      'spool upload takes a file (or - for standard input) and gs://BUCKET/OBJECT.',
    );
  }
  const [from, to] = positionals as [string, string];
  parseObjectUrl(to);
  const fromStdin = from === '-';
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  const bar = process.stderr.isTTY ? new Bar() : undefined;
  let task: Upload | undefined;
  try {
    task = await createUpload(fromStdin ? stdinSource() : from, to, {
      ...connection(values, process.env),
      chunkSize: values['chunk-size'] as number | undefined,
      md5: values.md5 === true,
      multipartThreshold: values['multipart-threshold'] as number | undefined,
      signal: interrupt.signal,
    });
    task.on('progress', (progress) => bar?.update(progress));
    task.on('session', ({ uri, resumed, replaced }) => {
      if (resumed) note(bar, `Resuming an earlier upload of ${from} (session ${redactUrl(uri)}).`);
      if (replaced)
        note(bar, 'The server no longer knows the session; starting again on a new one.');
    });
    task.on('retry', ({ attempt, delay, error }) =>
      note(
        bar,
        `Retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt}): ${error.message}`,
      ),
    );
    task.on('warning', (warning) => note(bar, warning.message));
    const object = await task.start();
    bar?.clear();
    process.stdout.write(
      values['json']
        ? `${JSON.stringify(object, null, 2)}\n`
        : `${to}: ${object.size} bytes stored, crc32c ${object.crc32c}, md5 ${object.md5Hash ?? '-'}${object.generation ? `, generation ${object.generation}` : ''}\n`,
    );
    return 0;
  } catch (error) {
    bar?.clear();
    // Only a file can be read again, and only a session that exists has anything to resume.
    const again =
      fromStdin || task?.sessionUri === undefined
        ? ''
        : '\nThe server keeps what it has: run the same command again to resume.';
    if (interrupt.signal.aborted) {
      process.stderr.write(`spool upload: interrupted.${again}\n`);
      return 130;
    }
    if (!(error instanceof Error) || !isResumable(error)) throw error;
    process.stderr.write(`spool upload: ${error.message}${again}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function isResumable(error: Error): boolean {
  return (
    error instanceof GaveUpError || error instanceof NetworkError || error instanceof StallError
  );
}

function note(bar: Bar | undefined, text: string): void {
  bar?.clear();
  process.stderr.write(`${text}\n`);
}

/** The progress line on a terminal, redrawn at most five times a second. */
class Bar {
  private readonly speed = new RateMeter();
  private last = 0;
  private shown = false;

  update(progress: Parameters<typeof renderProgress>[0]): void {
    const now = Date.now();
    this.speed.add(now, progress.sent);
    if (now - this.last < 200) return;
    this.last = now;
    const line = renderProgress(progress, this.speed.rate(now));
    process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
