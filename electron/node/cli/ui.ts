/**
 * `ghostport ui`: the Ghostport window where no Electron can run (a server, a fresh clone): the
 * engine, history and settings of the tray app behind the same window, served on the loopback
 * address. Prints one line, the address with its one-time token, and runs until stopped.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliOptions } from './args.ts';
import { EXIT } from './args.ts';
import { loadConfig } from './config.ts';
import { CliError, type CliIo } from './io.ts';

/** Serves the window until SIGINT/SIGTERM; resolves with 0. */
export async function ui(options: CliOptions, io: CliIo, version: string): Promise<number> {
  const rendererDir = join(packageRoot(), 'dist', 'renderer');
  if (!existsSync(join(rendererDir, 'index.html'))) throw new CliError(`the window is not built (${rendererDir} is missing): run npm run build first`);
  const config = await loadConfig(options, io, true);
  const [{ Engine }, { createOsSource }, { History }, { SettingsStore }, { createAppService, headlessHooks }, { startUiServer }] = await Promise.all([
    import('#node/engine.ts'),
    import('#node/os-source.ts'),
    import('#node/history.ts'),
    import('#node/settings-store.ts'),
    import('#node/app-service.ts'),
    import('#node/ui-server.ts'),
  ]);
  const settings = await SettingsStore.open({ dataDir: config.dataDir });
  const history = History.open({ dataDir: config.historyDir, label: 'ui' });
  const os = createOsSource();
  const engine = new Engine({ os, ports: settings.settings.ports, intervalMs: settings.settings.intervalMs, history });
  const downloads = join(homedir(), 'Downloads');
  const service = createAppService({
    engine,
    history,
    settings,
    // A browser tab has no native dialogs: exports go to ~/Downloads (else the data directory),
    // and ending a process stays a terminal's job (kill), never one click on a web page.
    hooks: headlessHooks('start at login is set from the tray app, or with the service\'s systemd unit', {
      chooseExportPath: async (name) => join(existsSync(downloads) ? downloads : config.dataDir, name),
    }),
    environment: { version, owners: os.owners },
  });
  for (const issue of [...settings.issues, ...history.issues]) io.err(`ghostport: ${issue.message}\n`);
  engine.start();
  const server = await startUiServer({ service, rendererDir, port: options['http-port'] ?? 0 }).catch((error: unknown) => {
    throw new CliError(`cannot serve the window on 127.0.0.1 (${(error as NodeJS.ErrnoException).code ?? String(error)}): choose another --http-port`);
  });
  io.out(`${server.url}\n`);
  io.err('ghostport: open the address above in a browser on this machine (the link works once, then a cookie keeps you in). Ctrl-C stops.\n');
  await io.stopped;
  await server.close();
  service.dispose();
  await engine.stop();
  history.close();
  return EXIT.clear;
}

/** The folder of Ghostport's package.json, from the sources or from the bundle. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
