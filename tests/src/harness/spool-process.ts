import { spawn, spawnSync, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Children still running. A failed test may skip its own clean-up, and the test process would
 * then wait on their pipes forever. Once the file's tests are done, leftover children stop
 * holding the process open (its own `after` hooks may still use them), and die with it.
 */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) {
    child.unref();
    for (const pipe of [child.stdout, child.stderr]) (pipe as unknown as { unref(): void }).unref();
  }
});
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
export const spoolBin = join(repoRoot, 'packages/cli/bin/spool.js');

export interface SpoolProcessOptions {
  /** Reuse a data directory (to restart on the same data); a fresh temporary one by default. */
  readonly dataDir?: string;
  /** PostgreSQL and S3 instead of a data directory (the S3 settings come in `env`). */
  readonly storage?: { readonly metadata: string; readonly blobs: string };
  /** The working directory; the harness's own by default. */
  readonly cwd?: string;
  readonly buckets?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
}

/** A real `spool serve` process on a free port. */
export class SpoolProcess {
  private constructor(
    readonly url: string,
    readonly dataDir: string,
    readonly child: ChildProcess,
    private ownsDataDir: boolean,
    private readonly stderrLines: string[],
    private readonly options: SpoolProcessOptions,
  ) {}

  static async start(options: SpoolProcessOptions = {}): Promise<SpoolProcess> {
    const ownsDataDir = options.dataDir === undefined && options.storage === undefined;
    const dataDir =
      options.dataDir ?? (ownsDataDir ? await mkdtemp(join(tmpdir(), 'spool-test-')) : '');
    const child = spawnServe(options, dataDir);
    const { url, stderrLines } = await listening('spool serve', child);
    return new SpoolProcess(url, dataDir, child, ownsDataDir, stderrLines, options);
  }

  get stderr(): string {
    return this.stderrLines.join('\n');
  }

  /** The process's resident memory (bytes) and open file descriptors, from /proc (Linux). */
  async resources(): Promise<{ rss: number; fds: number }> {
    const pid = this.child.pid!;
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    return { rss: kib * 1024, fds: (await readdir(`/proc/${pid}/fd`)).length };
  }

  /** The lines the server logged at level error (of the last 500 lines). */
  errors(): string[] {
    return this.stderrLines.filter((line) => line.includes('"level":"error"'));
  }

  /** SIGKILL: no chance to flush or clean up. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  signal(signal: NodeJS.Signals): Promise<void> {
    return stopChild(this.child, signal);
  }

  /** Sends a signal that does not end the process (SIGHUP: reload). */
  notify(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** A new process on the same data directory or storage (the URL changes: a new port). */
  async restart(): Promise<SpoolProcess> {
    await this.kill();
    const next = await SpoolProcess.start(
      this.options.storage ? this.options : { ...this.options, dataDir: this.dataDir },
    );
    // The new process's stop() removes the data directory this one created.
    next.ownsDataDir = this.ownsDataDir;
    return next;
  }

  /**
   * SIGKILLs this process, then starts one on the same data and SIGKILLs it too after `ms`,
   * whether it has finished starting (recovery) or not.
   */
  async crashDuringStart(ms: number): Promise<void> {
    await this.kill();
    const child = spawnServe(this.options, this.dataDir);
    child.stdout.resume();
    child.stderr.resume();
    const exited = new Promise((r) => child.once('exit', r));
    await Promise.race([exited, new Promise((r) => setTimeout(r, ms))]);
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the process and removes the data directory if the harness created it. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}

function spawnServe(
  options: SpoolProcessOptions,
  dataDir: string,
): ChildProcessByStdio<null, Readable, Readable> {
  const args = [spoolBin, 'serve', '--port', '0', '--log-level', 'warn'];
  if (options.storage)
    args.push('--metadata', options.storage.metadata, '--blobs', options.storage.blobs);
  else args.push('--data', dataDir);
  for (const b of options.buckets ?? ['test-bucket']) args.push('--bucket', b);
  args.push(...(options.args ?? []));
  return spawnNode(args, options);
}

/** `node ARGS…`, its output piped, killed with the test process if still running then. */
function spawnNode(
  args: readonly string[],
  options: { readonly cwd?: string | undefined; readonly env?: Record<string, string> | undefined },
): ChildProcessByStdio<null, Readable, Readable> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * Waits for a server's first line, `listening on URL` (as `spool serve` and examples/ print it),
 * keeping its last 500 lines of stderr to say why when it does not start.
 */
async function listening(
  what: string,
  child: ChildProcessByStdio<null, Readable, Readable>,
): Promise<{ url: string; stderrLines: string[] }> {
  const stderrLines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrLines.push(line);
    if (stderrLines.length > 500) stderrLines.shift();
  });
  const url = await new Promise<string>((resolvePromise, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(
      () => reject(new Error(`${what} did not start:\n${stderrLines.join('\n')}`)),
      15_000,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on (http\S+)$/.exec(line);
      if (m) resolvePromise(m[1]!);
      else reject(new Error(`unexpected first line from ${what}: ${line}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${stderrLines.join('\n')}`));
    });
  });
  return { url, stderrLines };
}

/** Signals a child the harness started, and waits until it is gone. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  // The end-of-file hook may have unref'd the child: waiting for its exit must hold the process.
  child.ref();
  child.kill(signal);
  await exited;
}

/** A Node server of the repository (an example app), started as `node SCRIPT` on a free port. */
export class NodeServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(script: string, env: Record<string, string> = {}): Promise<NodeServer> {
    const child = spawnNode([join(repoRoot, script)], { env: { PORT: '0', ...env } });
    const { url } = await listening(script, child);
    return new NodeServer(url, child);
  }

  stop(): Promise<void> {
    return stopChild(this.child, 'SIGTERM');
  }
}

/**
 * Runs `spool serve --port 0 ARGS…` until it exits, for starts that must fail: one that starts
 * is killed after 20 s, so that the test fails on its exit status instead of hanging.
 */
export function serveUntilExit(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnNode([spoolBin, 'serve', '--port', '0', ...args], { env });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Runs a `spool` command to its end, without the endpoint variables of the environment. */
export function runSpool(args: readonly string[]): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const env = { ...process.env };
  delete env['SPOOL_ENDPOINT'];
  delete env['STORAGE_EMULATOR_HOST'];
  return spawnSync(process.execPath, [spoolBin, ...args], { encoding: 'utf8', env });
}
