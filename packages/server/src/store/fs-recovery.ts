import { UploadHasher, alignDown, protocolError } from '@spool/core';
import type { Logger } from '../log.js';
import { redactSessionId } from '../ids.js';
import { removeSession } from '../upload/expiry.js';
import type { FsBlobStore } from './fs-blobs.js';
import type { FsMetadataStore } from './fs-metadata.js';

export interface RecoveryReport {
  sessions: number;
  truncated: number;
  rehashed: number;
  completed: number;
  expired: number;
  lost: number;
  /** Blobs nothing referred to any more: what a crash left between two steps. */
  leftovers: number;
  /** New records (sessions', objects') a crash cut short, before the client was told of them. */
  unfinished: number;
}

/**
 * Brings every session back in line with its data after a crash, before the server takes
 * requests. New records the crash cut short go first. The session record is the truth about what was acknowledged; data past it was never
 * acknowledged and is dropped. A session whose completion was interrupted after its object was
 * stored is marked final. Then every blob belongs to an object or to an active session; any
 * other is what a crash left between two steps (the data of an object replaced or deleted just
 * before, a one-request upload stored but not yet committed) and is deleted.
 */
export async function recoverFsStore(
  metadata: FsMetadataStore,
  blobs: FsBlobStore,
  log: Logger,
  now = Date.now(),
): Promise<RecoveryReport> {
  const report: RecoveryReport = {
    sessions: 0,
    truncated: 0,
    rehashed: 0,
    completed: 0,
    expired: 0,
    lost: 0,
    leftovers: 0,
    unfinished: 0,
  };
  await metadata.clearTmp();
  report.unfinished = await metadata.removeUnfinishedRecords();
  const inUse = new Set<string>();
  for await (const session of metadata.allSessions()) {
    report.sessions++;
    if (session.expiresAt <= now) {
      await removeSession({ metadata, blobs }, session);
      report.expired++;
      continue;
    }
    if (session.status === 'cancelled' || session.status === 'failed') {
      await blobs.delete(session.blobId);
      continue;
    }
    if (session.status !== 'active') continue;
    const object = await metadata.getObject(session.bucket, session.name);
    if (object?.blobId === session.blobId) {
      await metadata.putSession({ ...session, status: 'final', object });
      report.completed++;
      continue;
    }
    inUse.add(session.blobId);
    const size = await blobs.size(session.blobId);
    if (size === undefined && session.persisted > 0) {
      log.error('session data missing', {
        session: redactSessionId(session.id),
        acknowledged: session.persisted,
      });
      await metadata.putSession({ ...session, status: 'failed', failure: dataLost() });
      report.lost++;
    } else if (size !== undefined && size > session.persisted) {
      const writer = await blobs.openWriter(session.blobId, {
        offset: session.persisted,
        state: undefined,
        expectedSize: undefined,
      });
      await writer.commit(session.persisted, true);
      report.truncated++;
    } else if (size !== undefined && size < session.persisted) {
      // The disk lost acknowledged bytes (it should not: they were fsynced). Say so, and fall
      // back to what is really there so that the client's next status query is truthful.
      const kept = alignDown(size);
      log.error('session data shorter than acknowledged', {
        session: redactSessionId(session.id),
        acknowledged: session.persisted,
        found: size,
      });
      const hash = await rehash(blobs, session.blobId, kept);
      const writer = await blobs.openWriter(session.blobId, {
        offset: kept,
        state: undefined,
        expectedSize: undefined,
      });
      await writer.commit(kept, true);
      await metadata.putSession({ ...session, persisted: kept, hash });
      report.rehashed++;
    }
  }
  for await (const object of metadata.allObjects()) inUse.add(object.blobId);
  report.leftovers = await blobs.removeUnlisted(inUse);
  return report;
}

async function rehash(blobs: FsBlobStore, blobId: string, length: number) {
  const hasher = new UploadHasher();
  if (length > 0) {
    const stream = await blobs.read(blobId, 0, length - 1);
    if (!stream) throw new Error(`blob ${blobId} of an upload in progress is missing`);
    for await (const chunk of stream as AsyncIterable<Buffer>) hasher.update(chunk);
  }
  return hasher.save();
}

const dataLost = () =>
  protocolError(
    410,
    'gone',
    'The data stored for this upload session was lost. Start a new upload.',
  );
