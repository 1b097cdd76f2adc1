import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createFileDurable, writeFilesAtomic } from './fs-util.js';

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

describe('writeFilesAtomic with fresh files', () => {
  it('creates the fresh ones and replaces the others', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'old.json'), 'before');
    await writeFilesAtomic(dir, [
      { path: join(dir, 'new.json'), data: 'created', fresh: true },
      { path: join(dir, 'old.json'), data: 'after' },
    ]);
    assert.equal(await readFile(join(dir, 'new.json'), 'utf8'), 'created');
    assert.equal(await readFile(join(dir, 'old.json'), 'utf8'), 'after');
    assert.deepEqual((await readdir(dir)).sort(), ['new.json', 'old.json']);
  });

  it('refuses a fresh file after a replaced one, writing nothing', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'old.json'), 'before');
    await assert.rejects(
      writeFilesAtomic(dir, [
        { path: join(dir, 'old.json'), data: 'after' },
        { path: join(dir, 'new.json'), data: 'created', fresh: true },
      ]),
      /fresh files must come first/,
    );
    assert.equal(await readFile(join(dir, 'old.json'), 'utf8'), 'before');
    assert.deepEqual(await readdir(dir), ['old.json']);
  });
});
