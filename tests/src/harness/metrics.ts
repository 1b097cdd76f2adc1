import assert from 'node:assert/strict';
import { send } from './http.js';

/** Metric samples by their full name with labels, e.g. `spool_sessions_failed_total{reason="invalid"}`. */
export async function scrape(
  base: string,
  headers: Record<string, string> = {},
): Promise<Map<string, number>> {
  const res = await send({ method: 'GET', url: `${base}/metrics`, headers });
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0.0.4/);
  const samples = new Map<string, number>();
  for (const line of res.text().split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}
