import {
  DEFAULT_ENDPOINT,
  defaultTransport,
  normalizeEndpoint,
  type ConnectionOptions,
} from '@spool/client/node';
import type { FlagSpec, FlagValue } from './flags.js';

/** --endpoint, shared by the commands that name objects as gs:// URLs. */
export const endpointFlag: FlagSpec = {
  name: 'endpoint',
  env: 'SPOOL_ENDPOINT',
  kind: 'string',
  value: 'URL',
  help: 'Storage API base URL; without it, $STORAGE_EMULATOR_HOST, then https://storage.googleapis.com.',
};

export const helpFlag: FlagSpec = { name: 'help', kind: 'boolean', help: 'Show this help.' };

/**
 * The endpoint: --endpoint (or $SPOOL_ENDPOINT, which the flag reads), then
 * $STORAGE_EMULATOR_HOST (the variable Google's clients honour; `host:port` is fine), then GCS.
 */
export function endpointFrom(
  values: Record<string, FlagValue>,
  env: Record<string, string | undefined>,
): string {
  return normalizeEndpoint(
    (values['endpoint'] as string | undefined) || env['STORAGE_EMULATOR_HOST'] || DEFAULT_ENDPOINT,
  );
}

/** Where requests go (`endpointFrom`), and a bearer token from $SPOOL_TOKEN. */
export function connection(
  values: Record<string, FlagValue>,
  env: Record<string, string | undefined>,
): Omit<ConnectionOptions, 'signal'> {
  const endpoint = endpointFrom(values, env);
  const token = env['SPOOL_TOKEN'] || undefined;
  return { transport: defaultTransport(), endpoint, ...(token !== undefined && { token }) };
}
