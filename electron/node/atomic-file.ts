/**
 * Writing a file so that readers see the old content or the new one, never half of it: a
 * temporary file beside the target, fsync, rename, then fsync of the directory (POSIX).
 */
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
