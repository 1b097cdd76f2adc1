import { MAX_OBJECT_SIZE } from './constants.js';
import { contentRangeUnparsable, tooLarge } from './messages.js';
import { fail, ok, type Result } from './protocol-error.js';

// The Content-Range forms clients send on a resumable session, and how they parse:
//
//   bytes */N    { kind: 'query', total: N }   a status query; finalizes when N is the stored size
//   bytes */*    { kind: 'query', total: undefined }
//   bytes a-b/N  { kind: 'bytes', first: a, last: b, total: N }
//   bytes a-b/*  { kind: 'bytes', first: a, last: b, total: undefined }
//   bytes a-*/N  { kind: 'bytes', first: a, last: undefined, total: N }   the body is the rest
//   bytes a-*/*  { kind: 'bytes', first: a, last: undefined, total: undefined }
export type ContentRange =
  | { readonly kind: 'query'; readonly total: number | undefined }
  | {
      readonly kind: 'bytes';
      readonly first: number;
      readonly last: number | undefined;
      readonly total: number | undefined;
    };

// Fifteen digits is far beyond 5 TiB yet still exact in a double; longer numbers are refused
// before any arithmetic can lose precision.
const FORM = /^bytes (?:(\*)|(\d{1,15})-(\d{1,15}|\*))\/(\*|\d{1,15})$/i;

export function parseContentRange(header: string): Result<ContentRange> {
  const m = FORM.exec(header.trim());
  if (!m) return fail(contentRangeUnparsable());
  const total = m[4] === '*' ? undefined : Number(m[4]);
  if (total !== undefined && total > MAX_OBJECT_SIZE) return fail(tooLarge(total));
  if (m[1] === '*') return ok({ kind: 'query', total });
  const first = Number(m[2]);
  const last = m[3] === '*' ? undefined : Number(m[3]);
  if (last !== undefined) {
    if (last < first) return fail(contentRangeUnparsable());
    if (total !== undefined && last >= total) return fail(contentRangeUnparsable());
    if (last + 1 > MAX_OBJECT_SIZE) return fail(tooLarge(last + 1));
  } else {
    if (total !== undefined && first > total) return fail(contentRangeUnparsable());
    if (first > MAX_OBJECT_SIZE) return fail(tooLarge(first));
  }
  return ok({ kind: 'bytes', first, last, total });
}

export function formatContentRange(range: ContentRange): string {
  const total = range.total === undefined ? '*' : String(range.total);
  if (range.kind === 'query') return `bytes */${total}`;
  const last = range.last === undefined ? '*' : String(range.last);
  return `bytes ${range.first}-${last}/${total}`;
}
