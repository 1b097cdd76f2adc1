import type { Route } from '../http/routes.js';

/** The JSON API methods Spool serves, named as storage-testbench's Retry Test API names them. */
export const FAULT_METHODS = [
  'storage.objects.insert',
  'storage.objects.get',
  'storage.objects.delete',
  'storage.objects.list',
  'storage.objects.patch',
  'storage.objects.compose',
  'storage.buckets.insert',
  'storage.buckets.get',
  'storage.buckets.list',
  'storage.buckets.delete',
] as const;

export type FaultMethod = (typeof FAULT_METHODS)[number];

export function isFaultMethod(name: string): name is FaultMethod {
  return (FAULT_METHODS as readonly string[]).includes(name);
}

/**
 * The method a request belongs to. As in the testbench, every request of an upload (initiation,
 * chunks, status queries, one-request uploads, the XML API's PUT and POST) is
 * `storage.objects.insert`, and cancelling a session is `storage.objects.delete`. Requests Spool
 * does not serve (405s) belong to none.
 */
export function faultMethodOf(
  route: Route,
  httpMethod: string,
  hasUploadId: boolean,
): FaultMethod | undefined {
  const read = httpMethod === 'GET' || httpMethod === 'HEAD';
  switch (route.name) {
    case 'upload':
      if (hasUploadId && httpMethod === 'DELETE') return 'storage.objects.delete';
      if (httpMethod === 'POST' || (hasUploadId && httpMethod === 'PUT'))
        return 'storage.objects.insert';
      return undefined;
    case 'object':
      if (read) return 'storage.objects.get';
      if (httpMethod === 'PATCH') return 'storage.objects.patch';
      if (httpMethod === 'POST' && route.composeTarget !== undefined)
        return 'storage.objects.compose';
      return httpMethod === 'DELETE' ? 'storage.objects.delete' : undefined;
    case 'xml-object':
      if (read) return 'storage.objects.get';
      if (httpMethod === 'PUT' || httpMethod === 'POST') return 'storage.objects.insert';
      return httpMethod === 'DELETE' ? 'storage.objects.delete' : undefined;
    case 'download':
      return read ? 'storage.objects.get' : undefined;
    case 'objects':
      return httpMethod === 'GET' ? 'storage.objects.list' : undefined;
    case 'buckets':
      if (httpMethod === 'GET') return 'storage.buckets.list';
      return httpMethod === 'POST' ? 'storage.buckets.insert' : undefined;
    case 'bucket':
      if (httpMethod === 'GET') return 'storage.buckets.get';
      return httpMethod === 'DELETE' ? 'storage.buckets.delete' : undefined;
    case 'healthz':
    case 'xml-bucket':
      return undefined;
  }
}
