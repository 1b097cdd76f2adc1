import { UsageError } from './flags.js';
import { serve } from './serve.js';
import { sign } from './sign.js';

const usage = `Usage: spool <command> [flags]

Commands:
  serve      Run the server (spool serve --help for its flags)
  sign       Print a V4 signed URL for one request on one object

Run "spool <command> --help" for a command's flags.
`;

const commands: Record<string, (argv: readonly string[]) => Promise<number>> = { serve, sign };

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
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`spool ${command}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`spool ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}
