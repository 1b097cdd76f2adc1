// The tus comparator: @tus/server with @tus/file-store, as its README sets it up, on a plain
// node:http server. Prints `listening on URL` like `spool serve`.
import { createServer } from 'node:http';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

const tus = new Server({
  path: '/files',
  datastore: new FileStore({ directory: process.argv[2] }),
});
createServer((req, res) => tus.handle(req, res)).listen(0, '127.0.0.1', function listening() {
  console.log(`listening on http://127.0.0.1:${this.address().port}`);
});
