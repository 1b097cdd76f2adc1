import { listObjects, parseBucketUrl } from '@spool/client/node';
import { connection, endpointFlag, helpFlag } from './connection.js';
import { formatFlags, parseFlags, UsageError, type FlagSpec } from './flags.js';

export const lsFlags: readonly FlagSpec[] = [endpointFlag, helpFlag];

export const lsUsage = `Usage: spool ls gs://BUCKET[/PREFIX] [flags]

Lists the objects in a bucket whose names start with PREFIX: size in bytes, time of the last
update, and URL, one object per line.

Flags:
${formatFlags(lsFlags)}
`;

export async function ls(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags(lsFlags, argv, process.env);
  if (values['help']) {
    process.stdout.write(lsUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('spool ls takes one gs://BUCKET[/PREFIX].');
  const { bucket, prefix } = parseBucketUrl(positionals[0]!);
  for await (const object of listObjects(bucket, prefix, connection(values, process.env))) {
    const updated = typeof object['updated'] === 'string' ? object['updated'] : '-';
    process.stdout.write(
      `${object.size.padStart(12)}  ${updated}  gs://${bucket}/${object.name ?? ''}\n`,
    );
  }
  return 0;
}
