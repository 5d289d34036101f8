/**
 * `ghostport serve`: one privileged watcher for the whole host. Runs the engine with the sight of
 * its user (root: every owner, every namespace the engine can reach), records the history in its
 * state directory, serves the read-only API on a Unix socket (mode 0660, group from
 * --socket-group) and, when asked, Prometheus metrics on a TCP address.
 * SIGHUP re-reads the settings; SIGTERM/SIGINT end the streams, flush the history, remove the
 * socket and resolve 0.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Settings } from '#common/settings.ts';
import { createAppService, headlessHooks } from '#node/app-service.ts';
import type { ServiceSettings } from '#node/app-service.ts';
import { Engine } from '#node/engine.ts';
import { createOsSource } from '#node/os-source.ts';
import type { OsSource } from '#node/os-source.ts';
import { History } from '#node/history.ts';
import { SettingsStore } from '#node/settings-store.ts';
import { createApiServer } from './api-server.ts';
import { createClientNamer } from './client-identity.ts';
import { NativeProbe } from '#node/native-probe.ts';
import { createLogger } from './log.ts';
import type { LogFormat, Logger } from './log.ts';
import { createMetrics, parseMetricsAddress } from './metrics.ts';
import { DEFAULT_SOCKET_PATH, findGroup, resolveServiceDirs } from './paths.ts';
import { ServeError } from './serve-error.ts';
import { Listeners } from '#common/listeners.ts';

/** What `ghostport serve` is told on its command line. */
export interface ServeOptions {
  readonly socketPath?: string;
  readonly socketGroup?: string | null;
  readonly intervalMs?: number | null;
  readonly metricsAddress?: string | null;
  readonly dataDir?: string | null;
  readonly logFormat?: LogFormat;
  /** Most `ghostport_socket_info` series exported at once (default 100). */
  readonly maxSocketSeries?: number;
  /** Bytes a streaming client may leave unread before it is dropped. */
  readonly maxBufferedBytes?: number;
}

/** The world `serve` runs in; tests pass their own. */
export interface ServeEnvironment {
  readonly version: string;
  readonly log?: Logger;
  /** Resolves when the service should stop (default: SIGTERM or SIGINT). */
  readonly stopSignal?: Promise<unknown>;
  /** Calls back on each reload request (default: SIGHUP); returns the unsubscribe. */
  readonly onReload?: (reload: () => void) => () => void;
  /** The operating system the engine reads (default: this machine's). */
  readonly os?: OsSource;
  /** Called once everything listens (tests wait for it). */
  readonly ready?: (info: { readonly socketPath: string; readonly metricsUrl: string | null; readonly stateDir: string }) => void;
}

/** Runs the service until it is told to stop; resolves with the exit status. */
export async function runServe(options: ServeOptions, environment: ServeEnvironment): Promise<number> {
  const log = environment.log ?? createLogger(options.logFormat ?? 'text');
  const socketPath = options.socketPath ?? DEFAULT_SOCKET_PATH;
  const group = options.socketGroup ? findGroup(options.socketGroup) : null;
  if (options.socketGroup && !group) throw new ServeError(`There is no group named ${JSON.stringify(options.socketGroup)}: create it (groupadd ${options.socketGroup}) or name another with --socket-group.`);
  const metricsAddress = options.metricsAddress ? parseMetricsAddress(options.metricsAddress) : null;
  await claimSocketPath(socketPath);

  const dirs = resolveServiceDirs(options.dataDir ?? null);
  if (dirs.note) log('info', dirs.note);
  const stateDir = dirs.history;
  const history = History.open({ dataDir: stateDir, label: 'service' });
  const settings = await reloadableSettings(dirs.settings);
  const intervalOf = (current: Settings) => options.intervalMs ?? current.intervalMs;
  const os = environment.os ?? createOsSource();
  const engine = new Engine({ os, ports: settings.settings.ports, intervalMs: intervalOf(settings.settings), history });
  const service = createAppService({
    engine,
    history,
    settings,
    // Headless and read-only: nothing here opens a dialog, and ending a process is the client's own action.
    hooks: headlessHooks('the service does not start at login; enable its systemd unit instead'),
    environment: { version: environment.version, elevated: os.elevated, owners: os.owners },
  });
  // Each client's pid and uid from the kernel, through the netlink helper (started on the first connection).
  const peers = NativeProbe.find();
  const clientOf = createClientNamer(peers && ((fd, inode, timeoutMs) => peers.peerOf(process.pid, fd, inode, timeoutMs)));
  const api = createApiServer({ service, engine, version: environment.version, log, clientOf, ...(options.maxBufferedBytes ? { maxBufferedBytes: options.maxBufferedBytes } : {}) });
  const server = createServer(api.handle);
  server.maxConnections = 1024;
  await listenOnSocket(server, socketPath, group?.gid ?? null);
  const metrics = metricsAddress ? createMetrics({ engine, version: environment.version, maxSocketSeries: options.maxSocketSeries ?? 100 }) : null;
  const metricsServer = metrics && metricsAddress ? await metrics.listen(metricsAddress) : null;
  const metricsUrl = metricsServer ? metrics!.url(metricsServer) : null;

  const stopReload = (environment.onReload ?? onSignal('SIGHUP'))(() => {
    void settings.reload().then(
      (next) => {
        engine.setPorts(next.ports);
        engine.setIntervalMs(intervalOf(next));
        log('info', 'settings reloaded', { ports: next.ports.join(','), intervalMs: intervalOf(next) });
      },
      (error: unknown) => log('error', 'reloading the settings failed; the old ones stay', { error: String(error) }),
    );
  });
  engine.start();
  log('info', 'serving', {
    socket: socketPath,
    group: group?.name ?? null,
    stateDir,
    settings: dirs.settings,
    history: history.path,
    metrics: metricsUrl,
    elevated: os.elevated,
    pid: process.pid,
  });
  environment.ready?.({ socketPath, metricsUrl, stateDir });

  await (environment.stopSignal ?? stopSignals());
  log('info', 'stopping: ending streams and flushing the history');
  stopReload();
  await api.closeStreams();
  api.dispose();
  await Promise.all([closeServer(server), metricsServer ? closeServer(metricsServer) : undefined]);
  removeSocket(socketPath);
  service.dispose();
  peers?.dispose();
  await engine.stop();
  history.close();
  metrics?.dispose();
  log('info', 'stopped');
  return 0;
}

/** Settings from the service's settings folder that SIGHUP can re-read in place. */
async function reloadableSettings(dir: string): Promise<ServiceSettings & { reload(): Promise<Settings> }> {
  let store = await SettingsStore.open({ dataDir: dir });
  const listeners = new Listeners<[Settings]>('settings listener');
  const forward = () => store.onChange((next) => listeners.emit(next));
  let unforward = forward();
  return {
    get settings() {
      return store.settings;
    },
    get issues() {
      return store.issues;
    },
    save: (next) => store.save(next),
    onChange: (listener) => listeners.add(listener),
    async reload() {
      const fresh = await SettingsStore.open({ dataDir: dir });
      unforward();
      store = fresh;
      unforward = forward();
      listeners.emit(fresh.settings);
      return fresh.settings;
    },
  };
}

/**
 * Makes the socket path ours: creates its directory (0755, never through a link), replaces a
 * stale socket left by a killed service, and refuses when another service answers there.
 */
async function claimSocketPath(socketPath: string): Promise<void> {
  const dir = dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const dirInfo = lstatSync(dir);
  if (!dirInfo.isDirectory()) throw new ServeError(`${dir} is not a directory (a link?); the socket's directory must be a real directory.`);
  if ((dirInfo.mode & 0o002) !== 0 && (dirInfo.mode & 0o1000) === 0) throw new ServeError(`${dir} is writable by everyone: anyone could replace the socket. Use a directory only root can write.`);
  let existing;
  try {
    existing = lstatSync(socketPath);
  } catch {
    return;
  }
  if (!existing.isSocket()) throw new ServeError(`${socketPath} exists and is not a socket; remove it or choose another path with --socket.`);
  if (await answers(socketPath)) throw new ServeError(`Another Ghostport service is already serving on ${socketPath}; stop it first (systemctl stop ghostport) or choose another path with --socket.`);
  unlinkSync(socketPath);
}

/** True when something accepts connections on the Unix socket. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Listens with mode 0660 from the first instant (umask), then hands the socket to the group. */
async function listenOnSocket(server: Server, socketPath: string, gid: number | null): Promise<void> {
  const previous = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ServeError(`Another Ghostport service started on ${socketPath} at the same moment; stop it first.`);
    throw error;
  } finally {
    process.umask(previous);
  }
  chmodSync(socketPath, 0o660);
  if (gid !== null) chownSync(socketPath, -1, gid);
}

function removeSocket(socketPath: string): void {
  try {
    if (lstatSync(socketPath).isSocket()) unlinkSync(socketPath);
  } catch {
    // Already gone.
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function stopSignals(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

function onSignal(signal: NodeJS.Signals): (listener: () => void) => () => void {
  return (listener) => {
    process.on(signal, listener);
    return () => process.off(signal, listener);
  };
}
