import { setTimeout as sleep } from 'node:timers/promises';
import { send } from './http.js';

/** A retry test as `GET /retry_test/{id}` shows it. */
export interface RetryTest {
  id: string;
  instructions: Record<string, string[]>;
  completed: boolean;
  transport: string;
}

/** `POST /retry_test`; throws unless the server accepts it. */
export async function createRetryTest(
  base: string,
  instructions: Record<string, string[]>,
): Promise<RetryTest> {
  const res = await send({
    method: 'POST',
    url: `${base}/retry_test`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instructions }),
  });
  if (res.status !== 200) throw new Error(`retry test refused: ${res.status} ${res.text()}`);
  return res.json<RetryTest>();
}

export async function getRetryTest(base: string, id: string): Promise<RetryTest> {
  const res = await send({ method: 'GET', url: `${base}/retry_test/${id}` });
  if (res.status !== 200) throw new Error(`retry test ${id}: ${res.status} ${res.text()}`);
  return res.json<RetryTest>();
}

/**
 * Waits until `condition` holds: for events the test cannot be told about directly (a stall has
 * begun). Polls at most 500 times, 20 ms apart, then fails saying what it waited for.
 */
export async function waitUntil(what: string, condition: () => Promise<boolean> | boolean) {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await sleep(20);
  }
  throw new Error(`gave up waiting until ${what}`);
}
