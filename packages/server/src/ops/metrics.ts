import { Registry, type Counter, type Histogram } from './prometheus.js';

/** What Spool counts, as Prometheus metrics (`GET /metrics`). */
export interface SpoolMetrics {
  readonly registry: Registry;
  readonly sessionsStarted: Counter;
  readonly sessionsCompleted: Counter;
  readonly sessionsFailed: Counter;
  readonly sessionsCancelled: Counter;
  readonly sessionsExpired: Counter;
  readonly objectsStored: Counter;
  readonly bytesReceived: Counter;
  readonly requests: Counter;
  readonly requestSeconds: Histogram;
  readonly errors: Counter;
}

export interface MetricSources {
  /** Resumable sessions not yet completed, failed, cancelled or expired (from the store). */
  openSessions(): Promise<number>;
  /** Requests writing to a session right now, on this process. */
  uploadsInProgress(): number;
}

export function createMetrics(sources: MetricSources): SpoolMetrics {
  const registry = new Registry();
  const metrics: SpoolMetrics = {
    registry,
    sessionsStarted: registry.counter(
      'spool_sessions_started_total',
      'Resumable upload sessions started, by API (json or xml).',
    ),
    sessionsCompleted: registry.counter(
      'spool_sessions_completed_total',
      'Resumable upload sessions that became objects.',
    ),
    sessionsFailed: registry.counter(
      'spool_sessions_failed_total',
      'Sessions failed for good, by reason (invalid chunk, hash mismatch, precondition).',
    ),
    sessionsCancelled: registry.counter(
      'spool_sessions_cancelled_total',
      'Sessions cancelled with DELETE.',
    ),
    sessionsExpired: registry.counter(
      'spool_sessions_expired_total',
      'Sessions removed with their data after their time to live.',
    ),
    objectsStored: registry.counter(
      'spool_objects_stored_total',
      'Objects created, by upload type (resumable, media, multipart, xml, compose).',
    ),
    bytesReceived: registry.counter(
      'spool_bytes_received_total',
      'Upload bytes stored (resent bytes that were already stored are not counted).',
    ),
    requests: registry.counter(
      'spool_http_requests_total',
      'HTTP requests, by method, route and status.',
    ),
    requestSeconds: registry.histogram(
      'spool_http_request_duration_seconds',
      'Time to answer HTTP requests, by route.',
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ),
    errors: registry.counter('spool_http_errors_total', 'Error answers, by status and reason.'),
  };
  registry.gauge(
    'spool_sessions_open',
    'Resumable sessions still open (not completed, failed, cancelled or expired).',
    () => sources.openSessions(),
  );
  registry.gauge(
    'spool_uploads_in_progress',
    'Requests writing to a session right now, on this process.',
    () => sources.uploadsInProgress(),
  );
  return metrics;
}
