/**
 * An error the protocol answers with, independent of transport. `format` says whether GCS sends it
 * as plain text (the upload protocol's own messages, which clients match on word for word) or as a
 * JSON API error envelope.
 */
export interface ProtocolError {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
  readonly format: 'text' | 'json';
  /** The error's code in the XML API, where it has a specific one (NoSuchKey, …). */
  readonly xmlCode?: string;
}

export function protocolError(
  status: number,
  reason: string,
  message: string,
  format: 'text' | 'json' = 'json',
  xmlCode?: string,
): ProtocolError {
  return { status, reason, message, format, ...(xmlCode !== undefined && { xmlCode }) };
}

/** The GCS JSON API error envelope. */
export function errorEnvelope(error: ProtocolError): {
  error: {
    code: number;
    message: string;
    errors: { message: string; domain: string; reason: string }[];
  };
} {
  return {
    error: {
      code: error.status,
      message: error.message,
      errors: [{ message: error.message, domain: 'global', reason: error.reason }],
    },
  };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(error: ProtocolError): Result<T> {
  return { ok: false, error };
}
