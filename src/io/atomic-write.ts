/**
 * Crash-safe file replacement for checkpoints and run state: a reader (or a resumed run after a
 * kill or power loss) sees either the old file or the complete new one, never a torn mix.
 *
 * Recipe: write a temp file in the *same directory* (rename is atomic only within one file
 * system), fsync it (so its bytes are on disk before the name points at them), rename it over the
 * target, then fsync the directory (so the rename itself is durable). On any failure the temp
 * file is removed and the target is left untouched.
 *
 * `data` may be a list of chunks, written in order, so a large checkpoint is never concatenated
 * into one buffer first. The new file gets the default mode (0o666 less the umask).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

export type AtomicData = Uint8Array | string | readonly Uint8Array[];

/** Atomically replace `target` with `data` (see the file comment for the guarantees). */
export async function writeFileAtomic(target: string, data: AtomicData): Promise<void> {
  const tmp = tempPathFor(target);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    for (const chunk of chunksOf(data)) await handle.write(chunk);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw wrap(err, target);
  }
  await syncDirectory(path.dirname(target));
}

/** Synchronous twin of {@link writeFileAtomic}, for exit handlers and simple scripts. */
export function writeFileAtomicSync(target: string, data: AtomicData): void {
  const tmp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    for (const chunk of chunksOf(data)) writeAllSync(fd, chunk);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd);
    fs.rmSync(tmp, { force: true });
    throw wrap(err, target);
  }
  syncDirectorySync(path.dirname(target));
}

/** A hidden sibling name that cannot collide with another writer (pid + random suffix). */
function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function chunksOf(data: AtomicData): Uint8Array[] {
  if (typeof data === 'string') return [Buffer.from(data, 'utf8')];
  if (data instanceof Uint8Array) return [data];
  return [...data];
}

function writeAllSync(fd: number, chunk: Uint8Array): void {
  // writeSync may write less than asked (large buffers, signals); loop until done.
  for (let off = 0; off < chunk.byteLength; ) off += fs.writeSync(fd, chunk, off, chunk.byteLength - off);
}

// Directory fsync makes the rename durable on Linux; some platforms (Windows) cannot open or
// fsync a directory, and there the rename is as durable as the OS makes it, so errors are ignored.
async function syncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // see above
  } finally {
    await handle?.close().catch(() => {});
  }
}

function syncDirectorySync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // see syncDirectory
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // the original error matters more than a failed close
  }
}

function wrap(err: unknown, target: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const wrapped = new Error(`writeFileAtomic ${target}: ${e.message}`, { cause: e });
  // Keep the errno code (ENOENT, EACCES, ENOSPC, ...) so callers can still branch on it.
  const code = (e as NodeJS.ErrnoException).code;
  if (code) (wrapped as NodeJS.ErrnoException).code = code;
  return wrapped;
}
