import { header, type Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import type { Route } from '../http/routes.js';
import type { Logger } from '../log.js';
import { appliesTo, parseInstruction } from './instructions.js';
import { faultMethodOf, type FaultMethod } from './methods.js';
import { RetryTests, retryTestNotFound, type PendingInstruction } from './registry.js';
import { injectedError, requestFaults } from './request-faults.js';
import { serveRetryTestApi } from './retry-test-api.js';

/** Response header naming the instruction that shaped a response, to tell injected faults from real ones. */
export const FAULT_HEADER = 'x-spool-fault';

/**
 * storage-testbench compatible fault injection (`spool serve --fault-injection`): the Retry Test
 * API, `x-retry-test-id`, and `x-goog-emulator-instructions` (alias `x-goog-testbench-instructions`).
 * Retry tests live in this object, in memory.
 */
export class FaultInjector {
  readonly retryTests = new RetryTests();

  constructor(private readonly log: Logger) {}

  /** Serves the Retry Test API (its paths take precedence over XML API bucket paths). */
  serveApi(ctx: Context): Promise<boolean> {
    return serveRetryTestApi(this.retryTests, ctx);
  }

  /**
   * Prepares `ctx.faults` for a request of a known method. Returns true when the request has been
   * dealt with (its connection reset). An injected `return-X` is thrown as an HttpError, for the
   * dispatcher to render as the request's API renders errors.
   */
  intercept(ctx: Context, route: Route | undefined): boolean {
    const method = route && faultMethodOf(route, ctx.method, ctx.query.has('upload_id'));
    if (!method) return false;
    const next = this.nextInstruction(ctx, method);
    if (!next) return false;
    const { pending, source } = next;
    const fired = () => {
      ctx.logFields['fault'] = pending.text;
      if (!ctx.res.headersSent) ctx.res.setHeader(FAULT_HEADER, pending.text);
      this.log.info('fault injected', {
        id: ctx.requestId,
        method,
        instruction: pending.text,
        source,
      });
    };
    const instruction = pending.instruction;
    if (instruction.kind === 'status' && pending.take()) {
      fired();
      throw new HttpError(injectedError(instruction.status, pending.text, source));
    }
    if (instruction.kind === 'reset' && pending.take()) {
      fired();
      ctx.logFields['status'] = 'reset';
      ctx.req.socket.resetAndDestroy();
      return true;
    }
    const gone = new AbortController();
    ctx.res.once('close', () => gone.abort());
    ctx.faults = requestFaults(pending, source, fired, gone.signal);
    return false;
  }

  /**
   * The instruction for this request: the head of its retry test's queue for the method, else
   * the one in its header, if that applies to the method (as in the testbench, the header is
   * ignored by requests it does not concern).
   */
  private nextInstruction(
    ctx: Context,
    method: FaultMethod,
  ): { pending: PendingInstruction; source: string } | undefined {
    const testId = header(ctx, 'x-retry-test-id');
    if (testId !== undefined) {
      if (!this.retryTests.has(testId)) throw new HttpError(retryTestNotFound(testId));
      const pending = this.retryTests.next(testId, method);
      if (pending) return { pending, source: `retry test ${testId}` };
    }
    const name = ['x-goog-emulator-instructions', 'x-goog-testbench-instructions'].find(
      (n) => header(ctx, n) !== undefined,
    );
    if (name === undefined) return undefined;
    const text = header(ctx, name)!.trim();
    const parsed = parseInstruction(text, 'header');
    if (!parsed.ok) throw badRequest(`${parsed.problem} (header ${name})`);
    if (!appliesTo(parsed.instruction, method)) return undefined;
    return {
      pending: { text, instruction: parsed.instruction, take: () => true },
      source: `header ${name}`,
    };
  }
}
