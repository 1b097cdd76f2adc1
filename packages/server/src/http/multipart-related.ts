// A streaming parser for the two-part multipart/related bodies of `uploadType=multipart`: a JSON
// metadata part, then the media. The metadata part is small and read whole; the media part is
// passed on as it arrives, holding back only enough bytes to recognise the closing delimiter.

export type MultipartEvent =
  | { readonly kind: 'metadata'; readonly headers: Record<string, string>; readonly body: Buffer }
  | { readonly kind: 'media-headers'; readonly headers: Record<string, string> }
  | { readonly kind: 'media'; readonly bytes: Buffer }
  | { readonly kind: 'end' };

export class MultipartError extends Error {}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

type State =
  'preamble' | 'after-boundary' | 'headers' | 'metadata' | 'media' | 'after-media' | 'epilogue';

/** The boundary parameter of a multipart/related Content-Type, or an error saying what is wrong. */
export function multipartBoundary(contentType: string | undefined): string | MultipartError {
  if (!contentType || !/^multipart\/related\s*(;|$)/i.test(contentType.trim())) {
    return new MultipartError(
      `uploadType=multipart needs Content-Type: multipart/related; boundary=…, not "${(contentType ?? '').slice(0, 80)}".`,
    );
  }
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))(?=\s*(?:;|$))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  return (
    boundary ??
    new MultipartError(
      'The multipart/related Content-Type has no boundary parameter (1 to 70 characters).',
    )
  );
}

export class MultipartRelatedParser {
  private state: State = 'preamble';
  private pending: Buffer = Buffer.alloc(0);
  private part = 0;
  private partHeaders: Record<string, string> = {};
  /** The first delimiter may start the body; later ones follow a CRLF. */
  private readonly firstDelimiter: Buffer;
  private readonly delimiter: Buffer;

  constructor(
    boundary: string,
    private readonly maxMetadataBytes: number,
  ) {
    this.firstDelimiter = Buffer.from(`--${boundary}`);
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  /** Feeds the next bytes of the body; returns what they completed. */
  push(chunk: Buffer): MultipartEvent[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const events: MultipartEvent[] = [];
    while (this.step(events));
    return events;
  }

  /** The body has ended: it must have closed its last part. */
  finish(): void {
    if (this.state !== 'epilogue') {
      throw new MultipartError(
        this.part < 2
          ? 'The multipart body ended before its media part: send a JSON metadata part and a media part.'
          : 'The multipart body ended without its closing boundary; the media part may be truncated.',
      );
    }
  }

  /** Advances by one step if it can; false when more bytes are needed. */
  private step(events: MultipartEvent[]): boolean {
    const buf = this.pending;
    switch (this.state) {
      case 'preamble': {
        const at = buf.indexOf(this.firstDelimiter);
        if (at < 0) {
          // Keep what could still be the start of the delimiter; the rest is preamble.
          this.pending = buf.subarray(Math.max(0, buf.length - this.firstDelimiter.length + 1));
          return false;
        }
        this.pending = buf.subarray(at + this.firstDelimiter.length);
        this.state = 'after-boundary';
        return true;
      }
      case 'after-boundary': {
        if (buf.length < 2) return false;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          throw new MultipartError(
            this.part < 2
              ? 'The multipart body closed before its media part.'
              : 'The multipart body has more than two parts.',
          );
        }
        if (!buf.subarray(0, 2).equals(CRLF))
          throw new MultipartError('A multipart boundary must be followed by CRLF.');
        if (this.part >= 2)
          throw new MultipartError(
            'The multipart body has more than two parts: metadata and media only.',
          );
        this.pending = buf.subarray(2);
        this.state = 'headers';
        return true;
      }
      case 'headers': {
        const end = buf.indexOf(HEADER_END);
        // A part with no headers starts straight with its blank line.
        const emptyHeaders = buf.length >= 2 && buf.subarray(0, 2).equals(CRLF);
        if (end < 0 && !emptyHeaders) {
          if (buf.length > MAX_HEADER_BYTES)
            throw new MultipartError('A multipart part has more than 16 KiB of headers.');
          return false;
        }
        const text = emptyHeaders ? '' : buf.subarray(0, end).toString('latin1');
        this.partHeaders = parsePartHeaders(text);
        this.pending = buf.subarray(emptyHeaders ? 2 : end + 4);
        this.part++;
        this.state = this.part === 1 ? 'metadata' : 'media';
        if (this.part === 2) events.push({ kind: 'media-headers', headers: this.partHeaders });
        return true;
      }
      case 'metadata': {
        const end = buf.indexOf(this.delimiter);
        if (end < 0) {
          if (buf.length > this.maxMetadataBytes + this.delimiter.length) {
            throw new MultipartError(
              `The metadata part is limited to ${this.maxMetadataBytes} bytes.`,
            );
          }
          return false;
        }
        if (end > this.maxMetadataBytes)
          throw new MultipartError(
            `The metadata part is limited to ${this.maxMetadataBytes} bytes.`,
          );
        events.push({
          kind: 'metadata',
          headers: this.partHeaders,
          body: Buffer.from(buf.subarray(0, end)),
        });
        this.pending = buf.subarray(end + this.delimiter.length);
        this.state = 'after-boundary';
        return true;
      }
      case 'media': {
        const end = buf.indexOf(this.delimiter);
        if (end < 0) {
          const safe = buf.length - (this.delimiter.length - 1);
          if (safe > 0) {
            events.push({ kind: 'media', bytes: buf.subarray(0, safe) });
            this.pending = buf.subarray(safe);
          }
          return false;
        }
        if (end > 0) events.push({ kind: 'media', bytes: buf.subarray(0, end) });
        this.pending = buf.subarray(end + this.delimiter.length);
        this.state = 'after-media';
        return true;
      }
      case 'after-media': {
        if (buf.length < 2) return false;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          this.state = 'epilogue';
          this.pending = Buffer.alloc(0);
          events.push({ kind: 'end' });
          return false;
        }
        throw new MultipartError(
          'The multipart body has more than two parts: metadata and media only.',
        );
      }
      case 'epilogue':
        this.pending = Buffer.alloc(0);
        return false;
    }
  }
}

function parsePartHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new MultipartError(
        `Malformed header line in a multipart part: "${line.slice(0, 60)}".`,
      );
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
