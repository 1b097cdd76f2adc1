import type { Services } from '../services.js';

/**
 * What keeps the server from serving requests right now: each store is asked something cheap
 * (a lookup of a name that cannot exist) and must answer, whatever the answer.
 */
export async function readinessProblems(
  app: Pick<Services, 'metadata' | 'blobs'>,
): Promise<string[]> {
  const problems: string[] = [];
  const probe = async (what: string, call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
    }
  };
  await probe('metadata store', () => app.metadata.getBucket('readyz-probe'));
  await probe('blob store', () => app.blobs.size('0'.repeat(32)));
  return problems;
}
