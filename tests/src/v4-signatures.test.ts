// V4 signed URLs: Google's conformance vectors verify and re-sign exactly; any change to a signed
// part, or a clock past expiry, is refused. Then end to end: a URL signed by @google-cloud/storage
// with the dummy key starts a resumable upload on `spool serve`.
import assert from 'node:assert/strict';
import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { compat } from './harness/compat.js';
import { Storage } from '@google-cloud/storage';
import {
  canonicalRequest,
  hostCandidates,
  publicKeyOf,
  rawQueryPairs,
  signUrl,
  stringToSign,
  verifySignedUrl,
  type SigningCredential,
  type VerificationKeys,
} from '@spool/server';
import { randomData } from './harness/gcs.js';
import { send } from './harness/http.js';
import { SpoolProcess, repoRoot } from './harness/spool-process.js';

interface Vector {
  description: string;
  method: string;
  expectedUrl: string;
  expectedCanonicalRequest: string;
  expectedStringToSign: string;
  timestamp: string;
  expiration: number;
  headers?: Record<string, string>;
}

const fixtures = `${repoRoot}/tests/fixtures/conformance`;
const { signingV4Tests: vectors } = JSON.parse(
  await readFile(`${fixtures}/v4_signatures.json`, 'utf8'),
) as { signingV4Tests: Vector[] };
const keyFile = `${fixtures}/test_service_account.not-a-test.json`;
const account = JSON.parse(await readFile(keyFile, 'utf8')) as {
  client_email: string;
  private_key: string;
};
const rsa: SigningCredential = {
  kind: 'rsa',
  email: account.client_email,
  privateKeyPem: account.private_key,
};
const keys: VerificationKeys = {
  rsa: new Map([[account.client_email, publicKeyOf(account.private_key)]]),
  hmac: new Map([['GOOG1ETESTKEY', 'c2VjcmV0']]),
};

/** The request a vector's URL describes, at a given time. */
function requestOf(url: URL, method: string, headers: Record<string, string>, now: number) {
  const lower: Record<string, string> = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const all: Record<string, string> = { ...lower, host: url.host };
  return {
    method,
    path: url.pathname,
    rawQuery: url.search.slice(1),
    headers: all,
    hosts: hostCandidates(url.host),
    now,
  };
}

describe('Google conformance vectors (signingV4Tests)', () => {
  for (const vector of vectors) {
    it(vector.description, () => {
      const url = new URL(vector.expectedUrl);
      const now = Date.parse(vector.timestamp);
      const request = requestOf(url, vector.method, vector.headers ?? {}, now);
      assert.equal(verifySignedUrl(request, keys), undefined, 'the vector verifies');

      const pairs = rawQueryPairs(request.rawQuery)!;
      const signedHeaders = pairs.find(([k]) => k === 'X-Goog-SignedHeaders')![1].split(';');
      const date = pairs.find(([k]) => k === 'X-Goog-Date')![1];
      const scope = pairs
        .find(([k]) => k === 'X-Goog-Credential')![1]
        .split('/')
        .slice(1)
        .join('/');
      // The string to sign is what the signature covers. (One vector, "Universe domain with virtual
      // hosted style", has an expectedCanonicalRequest that its own string to sign contradicts.)
      const signed = hostCandidates(url.host).map((host) =>
        canonicalRequest({
          method: vector.method,
          path: url.pathname,
          query: pairs,
          headers: { ...request.headers, host },
          signedHeaders,
        }),
      );
      const strings = signed.map((canonical) =>
        stringToSign('GOOG4-RSA-SHA256', date, scope, canonical),
      );
      assert.ok(
        strings.includes(vector.expectedStringToSign),
        'the string to sign is rebuilt exactly',
      );
      const consistent =
        createHash('sha256').update(vector.expectedCanonicalRequest).digest('hex') ===
        vector.expectedStringToSign.split('\n')[3];
      if (consistent)
        assert.ok(
          signed.includes(vector.expectedCanonicalRequest),
          'the canonical request is rebuilt exactly',
        );

      const refused = (
        label: string,
        changed: Parameters<typeof verifySignedUrl>[0],
        code = 'SignatureDoesNotMatch',
      ) => {
        const problem = verifySignedUrl(changed, keys);
        assert.equal(problem?.code, code, label);
      };
      refused('method', { ...request, method: vector.method === 'GET' ? 'PUT' : 'GET' });
      refused('path', { ...request, path: `${url.pathname}x` });
      refused('host', {
        ...request,
        headers: { ...request.headers, host: 'evil.example' },
        hosts: hostCandidates('evil.example:8080'),
      });
      refused('extra parameter', { ...request, rawQuery: `${request.rawQuery}&extra=1` });
      for (const [name] of pairs) {
        if (name === 'X-Goog-Signature') continue;
        const tampered = pairs
          .map(
            ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(k === name ? `${v}0` : v)}`,
          )
          .join('&');
        const problem = verifySignedUrl({ ...request, rawQuery: tampered }, keys);
        assert.ok(
          problem && problem.status >= 400 && problem.status < 500,
          `changing ${name} is refused`,
        );
      }
      for (const name of signedHeaders.filter((h) => h !== 'host')) {
        refused(`header ${name}`, {
          ...request,
          headers: { ...request.headers, [name]: `${request.headers[name] ?? ''}x` },
        });
      }
      const signature = pairs.find(([k]) => k === 'X-Goog-Signature')![1];
      const flipped = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
      refused('signature', { ...request, rawQuery: request.rawQuery.replace(signature, flipped) });
      refused(
        'clock past expiry',
        { ...request, now: now + vector.expiration * 1000 + 1 },
        'ExpiredToken',
      );
    });
  }

  it('re-signing each vector with the dummy key gives the same signature', () => {
    for (const vector of vectors) {
      const url = new URL(vector.expectedUrl);
      const pairs = rawQueryPairs(url.search.slice(1))!;
      const expected = pairs.find(([k]) => k === 'X-Goog-Signature')![1];
      const resigned = createSign('RSA-SHA256')
        .update(vector.expectedStringToSign)
        .sign(account.private_key, 'hex');
      assert.equal(resigned, expected, vector.description);
    }
  });
});

describe('signing and verifying', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  for (const credential of [
    rsa,
    { kind: 'hmac', accessId: 'GOOG1ETESTKEY', secret: 'c2VjcmV0' } as SigningCredential,
  ]) {
    it(`${credential.kind}: a URL Spool signs verifies, and a wrong key does not`, () => {
      const signed = new URL(
        signUrl(credential, {
          method: 'POST',
          url: 'http://127.0.0.1:4080/bucket/path/to/ü object',
          headers: { 'x-goog-resumable': 'start' },
          expiresInSeconds: 600,
          now,
        }),
      );
      const request = requestOf(signed, 'POST', { 'x-goog-resumable': 'start' }, now + 1000);
      assert.equal(verifySignedUrl(request, keys), undefined);
      const otherKeys: VerificationKeys =
        credential.kind === 'hmac'
          ? { rsa: keys.rsa, hmac: new Map([['GOOG1ETESTKEY', 'other']]) }
          : {
              rsa: new Map([
                [
                  account.client_email,
                  generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
                ],
              ]),
              hmac: keys.hmac,
            };
      assert.equal(verifySignedUrl(request, otherKeys)?.code, 'SignatureDoesNotMatch');
      assert.equal(
        verifySignedUrl(
          { ...request, headers: { ...request.headers, 'x-goog-resumable': 'stop' } },
          keys,
        )?.code,
        'SignatureDoesNotMatch',
      );
    });
  }

  it('refuses unknown credentials, malformed parameters and over-long validity with 4xx', () => {
    const base = { method: 'GET', path: '/b/o', headers: { host: 'h' }, hosts: ['h'], now };
    const cases: [string, string, number][] = [
      [
        'X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=nobody%40x%2F20260101%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20260101T000000Z&X-Goog-Expires=60&X-Goog-SignedHeaders=host&X-Goog-Signature=00',
        'AccessDenied',
        403,
      ],
      ['X-Goog-Algorithm=AWS4-HMAC-SHA256', 'AuthorizationQueryParametersError', 400],
      [
        'X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=broken',
        'AuthorizationQueryParametersError',
        400,
      ],
      [
        'X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=a%40b%2F20260101%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20260102T000000Z&X-Goog-Expires=60&X-Goog-SignedHeaders=host&X-Goog-Signature=00',
        'AuthorizationQueryParametersError',
        400,
      ],
      [
        'X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=a%40b%2F20260101%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20260101T000000Z&X-Goog-Expires=604801&X-Goog-SignedHeaders=host&X-Goog-Signature=00',
        'AuthorizationQueryParametersError',
        400,
      ],
      [
        'X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=a%40b%2F20260101%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20260101T000000Z&X-Goog-Expires=60&X-Goog-SignedHeaders=content-type&X-Goog-Signature=00',
        'AuthorizationQueryParametersError',
        400,
      ],
      [
        'X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=a%40b%2F20260101%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20260101T000000Z&X-Goog-Expires=60&X-Goog-SignedHeaders=host&X-Goog-Signature=zz',
        'AuthorizationQueryParametersError',
        400,
      ],
      ['X-Goog-Algorithm=GOOG4-RSA-SHA256&%ZZ', 'AuthorizationQueryParametersError', 400],
    ];
    for (const [rawQuery, code, status] of cases) {
      const problem = verifySignedUrl({ ...base, rawQuery }, keys);
      assert.equal(problem?.code, code, rawQuery);
      assert.equal(problem?.status, status, rawQuery);
      assert.ok(problem.message.length > 20, 'the message explains');
    }
  });
});

describe('signed URLs against spool serve', () => {
  let spool: SpoolProcess;
  let storage: Storage;
  before(async () => {
    spool = await SpoolProcess.start({ args: ['--signing-key', keyFile] });
    storage = new Storage({
      apiEndpoint: spool.url,
      projectId: 'spool-test',
      credentials: account,
    });
  });
  after(async () => spool.stop());

  compat(
    '@google-cloud/storage 7',
    'getSignedUrl (v4, resumable), then upload through it',
    async () => {
      const data = randomData(700_000);
      const file = storage.bucket('test-bucket').file('signed/resumable.bin');
      const [url] = await file.getSignedUrl({
        version: 'v4',
        action: 'resumable',
        expires: Date.now() + 10 * 60_000,
      });
      const start = await send({
        method: 'POST',
        url,
        headers: { 'x-goog-resumable': 'start', 'content-type': 'application/x-signed' },
      });
      assert.equal(start.status, 201, start.text());
      const session = start.headers.location!;
      assert.match(
        session,
        new RegExp(`^${spool.url}/test-bucket/signed/resumable\\.bin\\?upload_id=`),
      );
      const first = await send({
        method: 'PUT',
        url: session,
        headers: { 'content-range': 'bytes 0-524287/*' },
        body: data.subarray(0, 524288),
      });
      assert.equal(first.status, 308);
      const last = await send({
        method: 'PUT',
        url: session,
        headers: { 'content-range': `bytes 524288-${data.length - 1}/${data.length}` },
        body: data.subarray(524288),
      });
      assert.equal(last.status, 200);
      assert.equal(last.body.length, 0, 'an XML session completes with an empty body');
      assert.equal(last.headers['x-goog-stored-content-length'], String(data.length));
      assert.match(String(last.headers['x-goog-generation']), /^\d+$/);
      const [back] = await file.download();
      assert.ok(back.equals(data));
      const [metadata] = await file.getMetadata();
      assert.equal(metadata.contentType, 'application/x-signed');
    },
  );

  compat(
    '@google-cloud/storage 7',
    'getSignedUrl (v4, read); tampered and expired URLs refused',
    async () => {
      const file = storage.bucket('test-bucket').file('signed/read.bin');
      await file.save(Buffer.from('signed read'), { resumable: false });
      const [url] = await file.getSignedUrl({
        version: 'v4',
        action: 'read',
        expires: Date.now() + 60_000,
      });
      const ok = await send({ method: 'GET', url });
      assert.equal(ok.status, 200);
      assert.equal(ok.text(), 'signed read');
      const otherObject = await send({ method: 'GET', url: url.replace('read.bin', 'other.bin') });
      assert.equal(otherObject.status, 403);
      assert.match(otherObject.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
      assert.match(otherObject.text(), /<StringToSign>GOOG4-RSA-SHA256/);
      const longer = await send({
        method: 'GET',
        url: url.replace(/X-Goog-Expires=\d+/, 'X-Goog-Expires=604800'),
      });
      assert.equal(longer.status, 403);
      const [expired] = await file.getSignedUrl({
        version: 'v4',
        action: 'read',
        expires: Date.now() + 1000,
      });
      await new Promise((r) => setTimeout(r, 1100));
      const late = await send({ method: 'GET', url: expired });
      assert.equal(late.status, 400);
      assert.match(late.text(), /<Code>ExpiredToken<\/Code>/);
    },
  );

  it('a server without the key refuses the URL and says which flag configures it', async () => {
    const keyless = await SpoolProcess.start();
    try {
      const [url] = await storage
        .bucket('test-bucket')
        .file('x')
        .getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 60_000 });
      const res = await send({ method: 'GET', url: url.replace(spool.url, keyless.url) });
      assert.equal(res.status, 403);
      assert.match(res.text(), /--signing-key/);
    } finally {
      await keyless.stop();
    }
  });
});
