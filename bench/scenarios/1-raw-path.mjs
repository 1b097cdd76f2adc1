// 1 GiB file: `spool upload` to `spool serve` (durable), against the same bytes streamed by one
// PUT to a minimal Node server writing (and fsyncing) the same disk.
import { fileAgainstServer } from '../lib/common.mjs';

export default {
  id: '1',
  title: 'file, spool upload → spool serve, vs one PUT to a minimal fsyncing Node server',
  async run(ctx) {
    const row = await fileAgainstServer(ctx, {
      name: 's1',
      comparatorName: 'raw PUT',
      serverScript: 'raw-server.mjs',
      clientScript: 'raw-put.mjs',
      target: 0.85,
    });
    ctx.shared.scenario1SpoolMiBps = row.spool;
    return [row];
  },
};
