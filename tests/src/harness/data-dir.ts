import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What an audit of a data directory found; every list is empty in a healthy one. */
export interface DataDirAudit {
  readonly sessions: number;
  readonly objects: number;
  readonly blobs: number;
  /**
   * Blob files nothing refers to: neither an object nor a session that is still active (the data
   * of failed and cancelled sessions included).
   */
  readonly orphans: string[];
  /** Files that have no place in the layout, temporary files included. */
  readonly strays: string[];
  /** Objects whose blob is missing or of another size, and records that cannot be read. */
  readonly broken: string[];
}

interface SessionFile {
  readonly blobId: string;
  readonly status: string;
  readonly persisted: number;
}

interface ObjectFile {
  readonly name: string;
  readonly blobId: string;
  readonly size: number;
}

/**
 * Checks a data directory against its layout (`spool-data.json`, `sessions/`, `buckets/<bucket>/
 * {bucket.json,objects/}`, `blobs/`, `tmp/`): every blob belongs to an object or to an active
 * session, every object's blob is there with the object's size, and nothing else lies around.
 * Run it on a directory no server is writing to (stopped, or just restarted and idle): `tmp/`
 * must then be empty.
 */
export async function auditDataDir(root: string): Promise<DataDirAudit> {
  const strays: string[] = [];
  const broken: string[] = [];
  const referenced = new Set<string>();
  const layout = new Set(['spool-data.json', 'sessions', 'buckets', 'blobs', 'tmp']);
  for (const entry of await readdir(root)) if (!layout.has(entry)) strays.push(entry);
  for (const entry of await readdir(join(root, 'tmp'))) strays.push(`tmp/${entry}`);

  let sessions = 0;
  const settled: SessionFile[] = [];
  for (const entry of await readdir(join(root, 'sessions'))) {
    const path = `sessions/${entry}`;
    if (!/^[0-9a-f]{64}\.json$/.test(entry)) {
      strays.push(path);
      continue;
    }
    const session = await readRecord<SessionFile>(root, path, broken);
    if (!session) continue;
    sessions++;
    if (session.status === 'active') referenced.add(session.blobId);
    else settled.push(session);
  }

  let objects = 0;
  for (const bucket of await readdir(join(root, 'buckets'))) {
    for (const entry of await readdir(join(root, 'buckets', bucket))) {
      if (entry !== 'bucket.json' && entry !== 'objects') strays.push(`buckets/${bucket}/${entry}`);
    }
    // A bucket whose deletion a crash interrupted may have no objects directory.
    const objectFiles = await readdir(join(root, 'buckets', bucket, 'objects')).catch(() => []);
    for (const entry of objectFiles) {
      const path = `buckets/${bucket}/objects/${entry}`;
      if (!/^[0-9a-f]{64}\.json$/.test(entry)) {
        strays.push(path);
        continue;
      }
      const object = await readRecord<ObjectFile>(root, path, broken);
      if (!object) continue;
      objects++;
      referenced.add(object.blobId);
      // An empty object may have no file at all.
      const size =
        (await fileSize(join(root, 'blobs', object.blobId))) ?? (object.size === 0 ? 0 : undefined);
      if (size !== object.size) {
        broken.push(
          `object ${bucket}/${object.name}: blob ${object.blobId} ${size === undefined ? 'is missing' : `holds ${size} bytes`}, the object has ${object.size}`,
        );
      }
    }
  }

  const blobFiles = await readdir(join(root, 'blobs'));
  // A failed or cancelled session's data must be gone; a final one's is its object's, if any.
  const owner = new Map(settled.map((s) => [s.blobId, `, data of a ${s.status} session`]));
  const orphans = blobFiles
    .filter((blob) => !referenced.has(blob))
    .map((blob) => `blobs/${blob}${owner.get(blob) ?? ''}`);
  return { sessions, objects, blobs: blobFiles.length, orphans, strays, broken };
}

async function readRecord<T>(root: string, path: string, broken: string[]): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(root, path), 'utf8')) as T;
  } catch (error) {
    broken.push(`${path}: ${(error as Error).message}`);
    return undefined;
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** The audit's problems, one line each (empty when there are none). */
export function auditProblems(audit: DataDirAudit): string[] {
  return [
    ...audit.orphans.map((o) => `orphaned data: ${o}`),
    ...audit.strays.map((s) => `stray file: ${s}`),
    ...audit.broken,
  ];
}
