// The same file with `spool upload` → `spool serve`, against tus-js-client → @tus/server with
// @tus/file-store, both with their defaults. (FileStore does not fsync what it writes; Spool
// does before it acknowledges.)
import { fileAgainstServer } from '../lib/common.mjs';

export default {
  id: '2',
  title: 'file, spool upload → spool serve, vs tus-js-client → @tus/server + @tus/file-store',
  async run(ctx) {
    return [
      await fileAgainstServer(ctx, {
        name: 's2',
        comparatorName: 'tus',
        serverScript: 'tus-server.mjs',
        clientScript: 'tus-upload.mjs',
        target: 1.3,
      }),
    ];
  },
};
