import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MultipartError,
  MultipartRelatedParser,
  multipartBoundary,
  type MultipartEvent,
} from './multipart-related.js';

const boundary = 'spool_boundary_1234';

function body(
  metadata: string,
  media: Buffer,
  options: { preamble?: string; epilogue?: string; mediaType?: string } = {},
): Buffer {
  return Buffer.concat([
    Buffer.from(
      `${options.preamble ?? ''}--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${metadata}\r\n`,
    ),
    Buffer.from(
      `--${boundary}\r\nContent-Type: ${options.mediaType ?? 'application/octet-stream'}\r\n\r\n`,
    ),
    media,
    Buffer.from(`\r\n--${boundary}--${options.epilogue ?? '\r\n'}`),
  ]);
}

/** Feeds `input` cut at `cuts`; returns the metadata, media type and media it yields. */
function parse(input: Buffer, cuts: number[] = []) {
  const parser = new MultipartRelatedParser(boundary, 64 * 1024);
  const events: MultipartEvent[] = [];
  let at = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < input.length)]
    .sort((a, b) => a - b)
    .concat(input.length)) {
    events.push(...parser.push(input.subarray(at, cut)));
    at = cut;
  }
  parser.finish();
  const metadata = events.find((e) => e.kind === 'metadata');
  const mediaHeaders = events.find((e) => e.kind === 'media-headers');
  const media = Buffer.concat(events.flatMap((e) => (e.kind === 'media' ? [e.bytes] : [])));
  return {
    metadata: metadata?.kind === 'metadata' ? metadata.body.toString() : undefined,
    mediaType:
      mediaHeaders?.kind === 'media-headers' ? mediaHeaders.headers['content-type'] : undefined,
    media,
    ended: events.some((e) => e.kind === 'end'),
  };
}

describe('MultipartRelatedParser', () => {
  it('splits metadata and media, with preamble and epilogue', () => {
    const media = Buffer.from('hello\r\n--not-the-boundary\r\n');
    const out = parse(
      body('{"name":"a"}', media, { preamble: 'ignored\r\n', epilogue: '\r\ntrailing words' }),
    );
    assert.equal(out.metadata, '{"name":"a"}');
    assert.equal(out.mediaType, 'application/octet-stream');
    assert.deepEqual(out.media, media);
    assert.equal(out.ended, true);
  });

  it('gives the same result however the body is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 20 }),
        (metadata, media, cuts) => {
          const input = body(metadata.replace(/\r\n--/g, ''), Buffer.from(media));
          const out = parse(input, cuts);
          assert.deepEqual(out.media, Buffer.from(media));
          assert.equal(out.ended, true);
        },
      ),
    );
  });

  it('media that contains most of the delimiter is passed through intact', () => {
    // Content never holds the whole delimiter (the sender picks the boundary so); prefixes of it
    // must pass through, even when a chunk ends in the middle of one.
    const tricky = Buffer.from(`\r\n--${boundary.slice(0, -1)}x\r\n--${boundary.slice(0, -1)}`);
    for (let cut = 1; cut < 60; cut++) {
      const out = parse(body('{}', tricky), [cut, cut + 7, cut + 90]);
      assert.deepEqual(out.media, tricky);
    }
  });

  it('refuses malformed and hostile bodies with a clear error', () => {
    const cases: [string, Buffer][] = [
      ['no media part', Buffer.from(`--${boundary}\r\n\r\n{}\r\n--${boundary}--\r\n`)],
      [
        'three parts',
        Buffer.concat([
          body('{}', Buffer.from('x')).subarray(0, -4),
          Buffer.from(`\r\nContent-Type: a/b\r\n\r\nthird\r\n--${boundary}--`),
        ]),
      ],
      ['not closed', body('{}', Buffer.from('media')).subarray(0, -(boundary.length + 8))],
      ['no boundary at all', Buffer.from('just some bytes')],
      ['garbage after boundary', Buffer.from(`--${boundary}XX`)],
      [
        'bad header line',
        Buffer.from(`--${boundary}\r\nNo colon here\r\n\r\n{}\r\n--${boundary}\r\n`),
      ],
      ['huge metadata', Buffer.from(`--${boundary}\r\n\r\n${'x'.repeat(70_000)}`)],
      ['huge headers', Buffer.from(`--${boundary}\r\nX: ${'y'.repeat(20_000)}`)],
    ];
    for (const [label, input] of cases) {
      assert.throws(() => parse(input), MultipartError, label);
    }
  });

  it('reads the boundary from the Content-Type', () => {
    assert.equal(multipartBoundary('multipart/related; boundary=abc'), 'abc');
    assert.equal(multipartBoundary('Multipart/Related; charset=x; boundary="a b c"'), 'a b c');
    assert.ok(multipartBoundary('multipart/form-data; boundary=abc') instanceof MultipartError);
    assert.ok(multipartBoundary('multipart/related') instanceof MultipartError);
    assert.ok(multipartBoundary(undefined) instanceof MultipartError);
    assert.ok(
      multipartBoundary(`multipart/related; boundary=${'x'.repeat(71)}`) instanceof MultipartError,
    );
  });
});
