/** `ghostport serve`: the privileged service (electron/node/service/serve.ts); a start failure exits 2 with its reason. */
import { runServe } from '#node/service/serve.ts';
import { ServeError } from '#node/service/serve-error.ts';
import type { CliOptions } from './args.ts';
import { CliError, type CliIo } from './io.ts';

/** Runs the service until SIGTERM/SIGINT; resolves 0 after a clean stop. */
export async function serve(options: CliOptions, io: CliIo, version: string): Promise<number> {
  try {
    return await runServe(
      {
        ...(options.socket ? { socketPath: options.socket } : {}),
        socketGroup: options['socket-group'] ?? null,
        intervalMs: options.interval ?? null,
        metricsAddress: options['metrics-address'] ?? null,
        dataDir: options['data-dir'] ?? null,
        logFormat: options['log-format'] ?? 'text',
      },
      { version, stopSignal: io.stopped },
    );
  } catch (error) {
    if (error instanceof ServeError) throw new CliError(error.message);
    throw error;
  }
}
