/**
 * SHA-256 of a running process's executable (and, on request, the MD5 that dpkg records), read
 * through /proc/PID/exe, which still opens when the file was deleted or replaced. Results are
 * cached by device, inode, size and modification time, so a binary is read once per algorithm
 * however often it shows up; files over the size limit are not read and say so.
 */
import { open } from 'node:fs/promises';
import { errorMessage } from '#common/error-message.ts';

/** The digests of one executable, or why there are none. */
export type ExeDigest = { readonly ok: true; readonly hex: string } | { readonly ok: false; readonly reason: string };

/** The algorithms asked for. */
export type DigestAlgorithm = 'sha256' | 'md5';

/** Tuning of the digest cache. */
export interface ExeDigestOptions {
  /** Larger files are not hashed (default 256 MiB). */
  readonly limitBytes?: number;
  /** Most cached digests (default 512). */
  readonly maxEntries?: number;
}

const MiB = 1024 * 1024;

/** Hashes executables through /proc/PID/exe with a cache; one read per file at a time. */
export class ExeDigester {
  readonly #limit: number;
  readonly #max: number;
  readonly #cache = new Map<string, Promise<ExeDigest>>();

  constructor(options: ExeDigestOptions = {}) {
    this.#limit = options.limitBytes ?? 256 * MiB;
    this.#max = options.maxEntries ?? 512;
  }

  /** The digest of the executable `pid` runs; a rejection never escapes (it becomes a reason). */
  async digest(pid: number, algorithm: DigestAlgorithm = 'sha256'): Promise<ExeDigest> {
    let handle;
    try {
      handle = await open(`/proc/${pid}/exe`, 'r');
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
    try {
      const st = await handle.stat();
      if (st.size > this.#limit) {
        return { ok: false, reason: `the executable is ${(st.size / MiB).toFixed(0)} MiB, over the ${(this.#limit / MiB).toFixed(0)} MiB hashing limit` };
      }
      const key = `${algorithm}:${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
      const cached = this.#cache.get(key);
      if (cached) return await cached;
      const pending = hashHandle(handle, st.size, algorithm);
      handle = undefined; // hashHandle closes it.
      this.#cache.set(key, pending);
      if (this.#cache.size > this.#max) this.#cache.delete(this.#cache.keys().next().value!);
      const result = await pending;
      if (!result.ok) this.#cache.delete(key);
      return result;
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }
}

async function hashHandle(handle: Awaited<ReturnType<typeof open>>, size: number, algorithm: DigestAlgorithm): Promise<ExeDigest> {
  const hash = process.getBuiltinModule('node:crypto').createHash(algorithm);
  const buffer = Buffer.allocUnsafe(Math.min(Math.max(size, 1), MiB));
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    return { ok: true, hex: hash.digest('hex') };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Why a /proc read failed, in words a responder can act on. */
export function reasonOf(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return 'the process exited during capture';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied: run Ghostport as root to read it';
  return errorMessage(error);
}
