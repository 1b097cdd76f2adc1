import { cancelSession, querySession } from '@spool/client/node';
import { connection, helpFlag } from './connection.js';
import { formatFlags, parseFlags, UsageError, type FlagSpec } from './flags.js';

export const sessionFlags: readonly FlagSpec[] = [helpFlag];

export const statusUsage = `Usage: spool status <session-uri>

Asks the server what it has of a resumable upload session (PUT with Content-Range: bytes */*)
and prints it: the bytes stored, or the object if the upload is complete.

Flags:
${formatFlags(sessionFlags)}
`;

export const cancelUsage = `Usage: spool cancel <session-uri>

Cancels a resumable upload session (DELETE). The bytes stored for it are dropped for good.

Flags:
${formatFlags(sessionFlags)}
`;

function sessionArgument(
  command: string,
  argv: readonly string[],
  usage: string,
): string | undefined {
  const { values, positionals } = parseFlags(sessionFlags, argv, process.env);
  if (values['help']) {
    process.stdout.write(usage);
    return undefined;
  }
  if (positionals.length !== 1 || !/^https?:\/\//.test(positionals[0]!)) {
    throw new UsageError(
      `spool ${command} takes one session URI (the Location of the upload's start).`,
    );
  }
  return positionals[0]!;
}

export async function status(argv: readonly string[]): Promise<number> {
  const uri = sessionArgument('status', argv, statusUsage);
  if (uri === undefined) return 0;
  // A session URI is a capability: it needs no token, and carries its own host.
  const result = await querySession(uri, { ...connection({ endpoint: new URL(uri).origin }, {}) });
  process.stdout.write(
    result.complete
      ? `complete: ${result.object.bucket && result.object.name ? `gs://${result.object.bucket}/${result.object.name}, ` : ''}${result.object.size} bytes${result.object.generation ? `, generation ${result.object.generation}` : ''}\n`
      : `active: ${result.persisted} bytes stored\n`,
  );
  return 0;
}

export async function cancel(argv: readonly string[]): Promise<number> {
  const uri = sessionArgument('cancel', argv, cancelUsage);
  if (uri === undefined) return 0;
  await cancelSession(uri, { ...connection({ endpoint: new URL(uri).origin }, {}) });
  process.stdout.write('cancelled\n');
  return 0;
}
