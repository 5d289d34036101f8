/**
 * Turns an API call that throws or rejects (a programming error in the main process, a lost
 * bridge) into the same `Result` shape as an expected failure, so every caller handles one case.
 */
import type { Result } from '#common/ipc-contract.ts';
import { errorMessage } from '#common/error-message.ts';

/** Awaits an API call; a throw becomes `{ ok: false, error: { code: 'internal' } }`. */
export async function settle<T>(call: () => Promise<Result<T>>): Promise<Result<T>> {
  try {
    const result = await call();
    if (result && typeof result === 'object' && 'ok' in result) return result;
    return { ok: false, error: { code: 'internal', message: 'The app answered with something unexpected.' } };
  } catch (error) {
    const message = errorMessage(error);
    return { ok: false, error: { code: 'internal', message: `Something went wrong: ${message}` } };
  }
}
