// The raw path: a minimal Node HTTP server that writes each PUT body to a file and fsyncs it
// before answering, as a durable upload must. No protocol, no hashing, no records.
import { createServer } from 'node:http';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

const dir = process.argv[2];
let n = 0;
createServer(async (req, res) => {
  const file = await open(join(dir, `upload-${n++}`), 'w');
  let position = 0;
  for await (const chunk of req) {
    await file.write(chunk, 0, chunk.length, position);
    position += chunk.length;
  }
  await file.sync();
  await file.close();
  res.end(String(position));
}).listen(0, '127.0.0.1', function listening() {
  console.log(`listening on http://127.0.0.1:${this.address().port}`);
});
