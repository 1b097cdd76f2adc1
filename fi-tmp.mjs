import { createUpload } from '@spool/client/node';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
const base = process.argv[2];
writeFileSync('/tmp/fi-src.bin', randomBytes(9 << 20));
for (const instr of [['return-reset-connection','return-503'], ['return-408'], ['return-503-after-256K'], ['return-503-after-8192K','return-408']]) {
  const res = await fetch(`${base}/retry_test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instructions: { 'storage.objects.insert': instr } }) });
  const { id } = await res.json();
  const task = await createUpload('/tmp/fi-src.bin', `gs://bkt/fi-${Date.now()}`, { endpoint: base, stateStore: null, headers: { 'x-retry-test-id': id }, retry: { initialDelay: 5, maxDelay: 50 } });
  task.on('retry', (r) => console.log('  retry', r.error.message.slice(0, 80)));
  console.log(instr.join(), await task.start().then(() => 'ok', (e) => e.message));
}
console.log('done', JSON.stringify(process.getActiveResourcesInfo()));
