import { InvalidOptionsError } from '@spool/client';
import { UsageError } from './flags.js';

const usage = `Usage: spool <command> [flags]

Commands:
  serve      Run the server
  sign       Print a V4 signed URL for one request on one object
  upload     Upload a file or standard input: spool upload <file|-> gs://BUCKET/OBJECT
  download   Download an object: spool download gs://BUCKET/OBJECT <file|->
  status     Show what the server has of an upload session: spool status <session-uri>
  cancel     Cancel an upload session: spool cancel <session-uri>
  ls         List objects: spool ls gs://BUCKET[/PREFIX]

Run "spool <command> --help" for a command's flags.
`;

type Command = (argv: readonly string[]) => Promise<number>;

// Each command loads only its own modules: `spool upload` does not load the server, the
// PostgreSQL driver and the AWS SDK (they cost a client 30 MiB of memory and its start-up time).
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serve,
  sign: async () => (await import('./sign.js')).sign,
  upload: async () => (await import('./upload.js')).upload,
  download: async () => (await import('./download.js')).download,
  status: async () => (await import('./sessions.js')).status,
  cancel: async () => (await import('./sessions.js')).cancel,
  ls: async () => (await import('./ls.js')).ls,
};

/** Runs the command line; returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help' || command === '-h') {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`spool: unknown command "${command}".\n\n${usage}`);
    return 2;
  }
  try {
    return await (
      await run()
    )(rest);
  } catch (error) {
    if (error instanceof UsageError || error instanceof InvalidOptionsError) {
      process.stderr.write(`spool ${command}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`spool ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}
