import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createFileDurable } from './fs-util.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spool-fs-util-'));
  dirs.push(dir);
  return dir;
}

describe('createFileDurable', () => {
  it('creates a file with the content given', async () => {
    const dir = await scratch();
    await createFileDurable(join(dir, 'record.json'), '{"a":1}');
    assert.equal(await readFile(join(dir, 'record.json'), 'utf8'), '{"a":1}');
    assert.deepEqual(await readdir(dir), ['record.json']);
  });

  it('never replaces a file: an existing one is refused and left as it was', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'record.json'), 'before');
    await assert.rejects(createFileDurable(join(dir, 'record.json'), 'after'), { code: 'EEXIST' });
    assert.equal(await readFile(join(dir, 'record.json'), 'utf8'), 'before');
  });

  it('passes on the error when the directory does not exist', async () => {
    const dir = await scratch();
    await assert.rejects(createFileDurable(join(dir, 'gone', 'record.json'), 'x'), {
      code: 'ENOENT',
    });
    assert.deepEqual(await readdir(dir), []);
  });
});
