/**
 * Writing a file so that readers see the old content or the new one, never half of it: a
 * temporary file beside the target, fsync, rename, then fsync of the directory (POSIX).
 */
import { existsSync, lstatSync, renameSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/**
 * Writes the target through `write(handle)` on a temp file, then renames it into place. On any
 * failure the temp file is removed and the error rethrown; the target is untouched.
 */
export async function writeFileAtomic(target: string, write: (handle: FileHandle) => Promise<void>, mode = 0o644): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${++counter}`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(target));
}

/** Makes a rename durable (POSIX); Windows cannot open directories and NTFS journals renames. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename itself has happened.
  } finally {
    await handle?.close();
  }
}

/**
 * Moves a damaged file out of the way, never deleting it: to `<path>.corrupt-<time>` (a number
 * appended when that is taken), with its companions (e.g. SQLite's `-wal`, `-shm`) beside it.
 * Returns where it went.
 */
export function moveAside(path: string, at: Date = new Date(), companions: readonly string[] = []): string {
  const stamp = at.toISOString().replaceAll(':', '-');
  for (let n = 0; n < 100; n++) {
    const target = `${path}.corrupt-${stamp}${n === 0 ? '' : `-${n}`}`;
    if (lstatSync(target, { throwIfNoEntry: false })) continue; // Taken, even by a dangling link.
    renameSync(path, target);
    for (const suffix of companions) {
      if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
    }
    return target;
  }
  throw new Error(`too many damaged copies of ${path} already`);
}
