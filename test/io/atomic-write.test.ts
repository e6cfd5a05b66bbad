import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/io/atomic-write.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cream-atomic-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function freshDir(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  return dir;
}

for (const [label, write] of [
  ['writeFileAtomic', writeFileAtomic],
  ['writeFileAtomicSync', writeFileAtomicSync],
] as const) {
  describe(label, () => {
    test('writes strings, bytes and chunk lists, replacing the old file, leaving no temp file', async () => {
      const dir = freshDir(`${label}-ok`);
      const file = path.join(dir, 'state.json');
      await write(file, '{"a":1}');
      assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}');
      await write(file, new Uint8Array([1, 2, 3]));
      assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
      await write(file, [new Uint8Array([9]), new Uint8Array(0), Buffer.from('xy')]);
      assert.deepEqual([...fs.readFileSync(file)], [9, 120, 121]);
      assert.deepEqual(fs.readdirSync(dir), ['state.json']);
    });

    test('a failed write names the target, keeps the errno code, and leaves nothing behind', async () => {
      const dir = freshDir(`${label}-fail`);
      await assert.rejects(
        async () => write(path.join(dir, 'missing', 'x.bin'), 'data'),
        (err: NodeJS.ErrnoException) =>
          err.code === 'ENOENT' && err.message.includes(path.join(dir, 'missing', 'x.bin')),
      );
      // Renaming a file over a non-empty directory fails after the temp file was written.
      const target = path.join(dir, 'occupied');
      fs.mkdirSync(target);
      fs.writeFileSync(path.join(target, 'keep'), 'kept');
      await assert.rejects(async () => write(target, 'data'), /writeFileAtomic .*occupied/);
      assert.deepEqual(fs.readdirSync(dir), ['occupied'], 'temp file removed');
      assert.equal(fs.readFileSync(path.join(target, 'keep'), 'utf8'), 'kept');
    });
  });
}

test('concurrent writers: the file ends up as exactly one of the versions', async () => {
  const dir = freshDir('race');
  const file = path.join(dir, 'ckpt.bin');
  const versions = Array.from({ length: 16 }, (_, i) => Buffer.alloc(64 * 1024, i));
  await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
  const final = fs.readFileSync(file);
  assert.ok(
    versions.some((v) => v.equals(final)),
    'never a mix of two versions',
  );
  assert.deepEqual(fs.readdirSync(dir), ['ckpt.bin']);
});
