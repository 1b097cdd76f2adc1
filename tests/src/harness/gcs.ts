import { createHash, randomBytes } from 'node:crypto';
import { send, type RawResponse } from './http.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const CHUNK = 256 * KiB;

export function randomData(size: number): Buffer {
  return randomBytes(size);
}

export function md5Base64(data: Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

/** Starts a resumable session through the JSON API and returns its session URI. */
export async function initiate(
  base: string,
  bucket: string,
  name: string,
  options: { headers?: Record<string, string | number>; body?: unknown; query?: string } = {},
): Promise<string> {
  const res = await initiateRaw(base, bucket, name, options);
  if (res.status !== 200) throw new Error(`initiation failed: ${res.status} ${res.text()}`);
  return res.headers.location!;
}

export function initiateRaw(
  base: string,
  bucket: string,
  name: string | undefined,
  options: { headers?: Record<string, string | number>; body?: unknown; query?: string } = {},
): Promise<RawResponse> {
  const nameParam = name === undefined ? '' : `&name=${encodeURIComponent(name)}`;
  return send({
    method: 'POST',
    url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable${nameParam}${options.query ?? ''}`,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...options.headers },
    body: options.body === undefined ? '' : JSON.stringify(options.body),
  });
}

export function putChunk(
  uri: string,
  contentRange: string | undefined,
  body: Buffer,
  headers: Record<string, string | number> = {},
): Promise<RawResponse> {
  return send({
    method: 'PUT',
    url: uri,
    headers: { ...(contentRange !== undefined && { 'content-range': contentRange }), ...headers },
    body,
  });
}

export function query(
  uri: string,
  total = '*',
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return send({
    method: 'PUT',
    url: uri,
    headers: { ...headers, 'content-range': `bytes */${total}`, 'content-length': 0 },
  });
}

/** Bytes stored according to a 308's Range header. */
export function storedBytes(res: RawResponse): number {
  const range = res.headers.range;
  if (range === undefined) return 0;
  const m = /^bytes=0-(\d+)$/.exec(range);
  if (!m) throw new Error(`malformed Range header ${range}`);
  return Number(m[1]) + 1;
}

export async function download(
  base: string,
  bucket: string,
  name: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return send({
    method: 'GET',
    url: `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`,
    headers,
  });
}
