// Two clients writing different bytes to one session (a session URI handed to two browsers, or a
// stale process still running): never a mixed object, the winner's object stays, and a writer
// that does not end with its own object gets a data-loss error that says why.
import { createHash } from 'node:crypto';
import { DataLossError } from '@spool/client/node';
import { initiate, download } from '../harness/gcs.js';
import { SpoolProcess } from '../harness/spool-process.js';
import { type PhaseContext, type PhaseResult, loggedErrors, sleep } from './phase.js';
import { BUCKET, contentMd5, randomSpec, runUpload, type UploadSpec } from './uploads.js';

export interface TwoWriterOptions {
  readonly rounds: number;
  readonly maxSize: number;
}

type Outcome = { ok: true } | { ok: false; error: Error };

export async function twoWriters(
  ctx: PhaseContext,
  options: TwoWriterOptions,
): Promise<PhaseResult> {
  const { random } = ctx;
  const violations: string[] = [];
  const spool = await SpoolProcess.start({ buckets: [BUCKET], args: ['--session-rate', '0'] });
  const figures = { rounds: 0, wonByFirst: 0, wonBySecond: 0, noObject: 0, dataLossErrors: 0 };
  try {
    for (let round = 0; round < options.rounds; round++) {
      const name = `two-writers/${round}`;
      const a = { ...randomSpec(random, [name], options.maxSize), name };
      // The same size (the declared one, when the session declares it), different bytes.
      const b: UploadSpec = { ...randomSpec(random, [name], options.maxSize), name, size: a.size };
      const declare = random.chance(0.3);
      const uri = await initiate(spool.url, BUCKET, name, {
        headers: declare ? { 'x-upload-content-length': a.size } : {},
      });
      const write = async (spec: UploadSpec, delay: number): Promise<Outcome> => {
        await sleep(delay);
        try {
          const seen = { uri: undefined, acknowledged: 0 };
          await runUpload(
            spec,
            spool.url,
            random.fork(),
            ctx.scratch,
            seen,
            {},
            { sessionUri: uri },
          );
          return { ok: true };
        } catch (error) {
          return { ok: false, error: error as Error };
        }
      };
      const [first, second] = await Promise.all([write(a, 0), write(b, random.int(0, 30))]);
      figures.rounds++;
      const res = await download(spool.url, BUCKET, name);
      const md5 = res.status === 200 ? createHash('md5').update(res.body).digest('base64') : '';
      const label = `round ${round} (${a.kind}/${a.chunkSize ?? '-'} then ${b.kind}/${b.chunkSize ?? '-'}, ${a.size} bytes${declare ? ', declared' : ''})`;
      const holds =
        res.status !== 200
          ? 'nothing'
          : md5 === contentMd5([a])
            ? 'first'
            : md5 === contentMd5([b])
              ? 'second'
              : 'mixed';
      if (holds === 'mixed') violations.push(`${label}: the object mixes both writers' bytes`);
      if (res.status !== 200 && res.status !== 404)
        violations.push(`${label}: reading the object: ${res.status} ${res.text()}`);
      for (const [who, outcome] of [
        ['first', first],
        ['second', second],
      ] as const) {
        if (outcome.ok) {
          if (holds !== who && contentMd5([a]) !== contentMd5([b]))
            violations.push(`${label}: the ${who} writer succeeded, but the object holds ${holds}`);
        } else if (outcome.error instanceof DataLossError) {
          figures.dataLossErrors++;
        } else {
          violations.push(
            `${label}: the ${who} writer failed without a data-loss error: ${outcome.error.name}: ${outcome.error.message}`,
          );
        }
      }
      if (holds === 'first') figures.wonByFirst++;
      else if (holds === 'second') figures.wonBySecond++;
      else figures.noObject++;
    }
  } finally {
    violations.push(...loggedErrors(spool.errors(), 'server'));
    await spool.stop();
  }
  return { figures, violations };
}
