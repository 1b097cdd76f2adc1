import { randomBytes } from 'node:crypto';
import { fail, ok, protocolError, type Result } from '@spool/core';
import { appliesTo, methodsFor, parseInstruction, type Instruction } from './instructions.js';
import { FAULT_METHODS, isFaultMethod, type FaultMethod } from './methods.js';

/** A retry test as the Retry Test API shows it: the instructions still queued, per method. */
export interface RetryTestResource {
  readonly id: string;
  readonly instructions: Record<string, string[]>;
  /** True once every queue is empty. */
  readonly completed: boolean;
  readonly transport: 'HTTP';
}

interface Queued {
  readonly text: string;
  readonly instruction: Instruction;
}

type Queues = ReadonlyMap<FaultMethod, Queued[]>;

/** An instruction next in line for a request. The request takes it only if it fires. */
export interface PendingInstruction {
  readonly text: string;
  readonly instruction: Instruction;
  /** Takes the instruction off its queue; false when another request took it first. */
  take(): boolean;
}

/** Retry tests kept at once; each is small, but they live until deleted. */
export const MAX_RETRY_TESTS = 10_000;
/** Instructions per retry test. */
export const MAX_INSTRUCTIONS = 100;

const invalid = (message: string) => protocolError(400, 'invalid', message);

export const retryTestNotFound = (id: string) =>
  protocolError(
    404,
    'notFound',
    `No retry test ${JSON.stringify(id.slice(0, 64))} on this server. Retry tests live in the server's memory: a restart forgets them.`,
  );

/**
 * Validates the body of `POST /retry_test`:
 * `{"instructions": {"<method>": ["<instruction>", …], …}, "transport": "HTTP"}`.
 */
export function parseRetryTestRequest(body: unknown): Result<Queues> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return fail(invalid('A retry test is a JSON object with "instructions".'));
  const { instructions, transport } = body as { instructions?: unknown; transport?: unknown };
  if (transport !== undefined && (typeof transport !== 'string' || !/^http$/i.test(transport))) {
    return fail(
      invalid(
        `Invalid transport ${JSON.stringify(transport).slice(0, 40)}: Spool serves HTTP only; omit "transport" or send "HTTP".`,
      ),
    );
  }
  if (
    typeof instructions !== 'object' ||
    instructions === null ||
    Array.isArray(instructions) ||
    Object.keys(instructions).length === 0
  ) {
    return fail(
      invalid(
        'The retry test has no "instructions": send {"instructions": {"storage.objects.insert": ["return-503"]}}, for example.',
      ),
    );
  }
  const queues = new Map<FaultMethod, Queued[]>();
  let count = 0;
  for (const [method, list] of Object.entries(instructions as Record<string, unknown>)) {
    if (!isFaultMethod(method)) {
      return fail(
        invalid(
          `Unknown method ${JSON.stringify(method.slice(0, 80))} for fault injection; Spool serves ${FAULT_METHODS.join(', ')}.`,
        ),
      );
    }
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
      return fail(invalid(`The instructions for ${method} must be a list of strings.`));
    }
    count += list.length;
    if (count > MAX_INSTRUCTIONS)
      return fail(invalid(`A retry test holds at most ${MAX_INSTRUCTIONS} instructions.`));
    const queue: Queued[] = [];
    for (const text of list) {
      const parsed = parseInstruction(text, 'retry-test');
      if (!parsed.ok) return fail(invalid(parsed.problem));
      if (!appliesTo(parsed.instruction, method)) {
        return fail(
          invalid(
            `The instruction ${JSON.stringify(text)} can never fire on ${method}: it applies to ${methodsFor(parsed.instruction)}.`,
          ),
        );
      }
      queue.push({ text, instruction: parsed.instruction });
    }
    queues.set(method, queue);
  }
  return ok(queues);
}

/**
 * The retry tests of one server process, in memory: each holds a first-in first-out queue of
 * instructions per method, consumed by the requests that carry its id.
 */
export class RetryTests {
  private readonly tests = new Map<string, Queues>();

  constructor(
    private readonly newId: () => string = () => randomBytes(16).toString('hex'),
    private readonly limit = MAX_RETRY_TESTS,
  ) {}

  create(body: unknown): Result<RetryTestResource> {
    const parsed = parseRetryTestRequest(body);
    if (!parsed.ok) return parsed;
    if (this.tests.size >= this.limit) {
      return fail(
        invalid(
          `This server already holds ${this.limit} retry tests; delete finished ones (DELETE /retry_test/{id}) or restart it.`,
        ),
      );
    }
    const id = this.newId();
    this.tests.set(id, parsed.value);
    return ok(resource(id, parsed.value));
  }

  has(id: string): boolean {
    return this.tests.has(id);
  }

  get(id: string): RetryTestResource | undefined {
    const queues = this.tests.get(id);
    return queues && resource(id, queues);
  }

  delete(id: string): boolean {
    return this.tests.delete(id);
  }

  list(): RetryTestResource[] {
    return [...this.tests].map(([id, queues]) => resource(id, queues));
  }

  /** The instruction next in line for `method` in test `id`, if any. */
  next(id: string, method: FaultMethod): PendingInstruction | undefined {
    const queue = this.tests.get(id)?.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    return {
      text: head.text,
      instruction: head.instruction,
      take: () => {
        if (queue[0] !== head) return false;
        queue.shift();
        return true;
      },
    };
  }
}

function resource(id: string, queues: Queues): RetryTestResource {
  const instructions: Record<string, string[]> = {};
  let left = 0;
  for (const [method, queue] of queues) {
    instructions[method] = queue.map((q) => q.text);
    left += queue.length;
  }
  return { id, instructions, completed: left === 0, transport: 'HTTP' };
}
