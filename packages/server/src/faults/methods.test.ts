import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchRoute } from '../http/routes.js';
import { faultMethodOf } from './methods.js';

const method = (httpMethod: string, url: string) => {
  const [path, query = ''] = url.split('?');
  const route = matchRoute(path!, decodeURIComponent);
  assert.ok(route, `${url} is a route`);
  return faultMethodOf(route, httpMethod, new URLSearchParams(query).has('upload_id'));
};

describe('faultMethodOf', () => {
  it('puts every request of a resumable upload under storage.objects.insert', () => {
    assert.equal(
      method('POST', '/upload/storage/v1/b/b/o?uploadType=resumable&name=x'),
      'storage.objects.insert',
    );
    assert.equal(method('PUT', '/upload/storage/v1/b/b/o?upload_id=abc'), 'storage.objects.insert');
    assert.equal(
      method('POST', '/resumable/upload/storage/v1/b/b/o?upload_id=abc'),
      'storage.objects.insert',
    );
  });

  it('calls cancelling a session storage.objects.delete, as the testbench does', () => {
    assert.equal(
      method('DELETE', '/upload/storage/v1/b/b/o?upload_id=abc'),
      'storage.objects.delete',
    );
  });

  it('names object and bucket requests', () => {
    assert.equal(method('GET', '/storage/v1/b/b/o/x'), 'storage.objects.get');
    assert.equal(method('HEAD', '/storage/v1/b/b/o/x'), 'storage.objects.get');
    assert.equal(method('GET', '/storage/v1/b/b/o/x?alt=media'), 'storage.objects.get');
    assert.equal(method('GET', '/download/storage/v1/b/b/o/x?alt=media'), 'storage.objects.get');
    assert.equal(method('DELETE', '/storage/v1/b/b/o/x'), 'storage.objects.delete');
    assert.equal(method('GET', '/storage/v1/b/b/o'), 'storage.objects.list');
    assert.equal(method('GET', '/storage/v1/b'), 'storage.buckets.list');
    assert.equal(method('POST', '/storage/v1/b'), 'storage.buckets.insert');
    assert.equal(method('GET', '/storage/v1/b/b'), 'storage.buckets.get');
    assert.equal(method('DELETE', '/storage/v1/b/b'), 'storage.buckets.delete');
    assert.equal(method('PATCH', '/storage/v1/b/b/o/x'), 'storage.objects.patch');
    assert.equal(method('POST', '/storage/v1/b/b/o/x/compose'), 'storage.objects.compose');
  });

  it('names the XML API requests as the testbench does', () => {
    assert.equal(method('GET', '/b1/x'), 'storage.objects.get');
    assert.equal(method('PUT', '/b1/x'), 'storage.objects.insert');
    assert.equal(method('POST', '/b1/x'), 'storage.objects.insert');
    assert.equal(method('PUT', '/b1/x?upload_id=abc'), 'storage.objects.insert');
    assert.equal(method('DELETE', '/b1/x?upload_id=abc'), 'storage.objects.delete');
    assert.equal(method('DELETE', '/b1/x'), 'storage.objects.delete');
  });

  it('gives every upload type storage.objects.insert', () => {
    assert.equal(
      method('POST', '/upload/storage/v1/b/b/o?uploadType=media&name=x'),
      'storage.objects.insert',
    );
    assert.equal(
      method('POST', '/upload/storage/v1/b/b/o?uploadType=multipart'),
      'storage.objects.insert',
    );
  });

  it('gives requests Spool does not serve no method', () => {
    assert.equal(method('GET', '/healthz'), undefined);
    assert.equal(method('PUT', '/storage/v1/b/b/o/x'), undefined);
    assert.equal(method('PUT', '/upload/storage/v1/b/b/o'), undefined);
    assert.equal(method('GET', '/upload/storage/v1/b/b/o?upload_id=abc'), undefined);
    assert.equal(method('POST', '/storage/v1/b/b/o'), undefined);
    assert.equal(method('GET', '/b1'), undefined);
  });
});
