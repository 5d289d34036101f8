/**
 * The tray app's engine: the Ghostport service when it runs and lets this user read its socket
 * (every owner: full sight), else the app's own engine with its limits, switching live both ways.
 * While local, it looks for the service every `probeMs`; once the service's first snapshot can
 * see, the local engine stops and the service takes over. When the service goes, the view is
 * blind (never clear) until a new local engine's first scan that sees.
 *
 * Across a switch nothing is announced twice and nothing is lost: the last snapshot announced is
 * compared with the new side's first (a socket is the same by its kernel inode, so an owner the
 * local engine could not see is no disappearance, and the socket keeps the identity it was
 * announced with), and what the service recorded after the local engine's last look (a socket
 * that came and went during the switch) is taken from its history, each event once.
 */
import type { EngineSource } from '#common/ipc-contract.ts';
import type { EngineStatus, HealthIssue, PortEvent, PortSocket, Snapshot } from '#common/model.ts';
import { EngineFeed } from '#common/listeners.ts';
import type { Engine, EventSink } from '#node/engine.ts';
import { ServiceClient, ServiceError } from './client.ts';
import { NOT_STARTED, RemoteEngine } from './remote-engine.ts';

/** What the switch needs of an engine (the local one, or RemoteEngine). */
export type SwitchedEngine = Pick<Engine, 'snapshot' | 'status' | 'onScan' | 'onStatus' | 'onEvidenceCompleted' | 'start' | 'stop' | 'scanNow' | 'pause' | 'resume' | 'setPorts' | 'setIntervalMs'>;

/** How to build the switch. */
export interface EngineSwitchOptions {
  /** The service's socket. */
  readonly socketPath: string;
  /** Where events are recorded before they are announced (the app's history). */
  readonly history: EventSink;
  /** A new local engine recording into `sink`, with the app's current ports and interval. */
  readonly createLocal: (sink: EventSink) => SwitchedEngine;
  /** How often to look for the service while the local engine runs (default 5 s). */
  readonly probeMs?: number;
  /** How long the service may take to answer, and then to see (default 1 s and 10 s). */
  readonly connectTimeoutMs?: number;
  readonly seeTimeoutMs?: number;
}

/** One engine the switch follows, and whether its events are the ones announced yet. */
interface Side {
  readonly source: EngineSource;
  readonly engine: SwitchedEngine;
  live: boolean;
  /** The service's events while it waits to take over: a socket that came and went meanwhile is among them. */
  readonly held: PortEvent[];
  /** Resolves at its first snapshot that can see. */
  readonly sees: Promise<void>;
  /** Stops following it. */
  readonly dispose: () => void;
}

/** The same socket on both sides: its kernel inode names it whoever can see its owner. */
function sameSocketKey(s: PortSocket): string {
  return (s.inode ?? 0) > 0 ? `${s.protocol}|${s.netns?.inode ?? ''}|${s.inode}` : s.id;
}

function eventKey(e: PortEvent): string {
  return `${e.type}|${e.socket.id}|${e.at}`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** The service or the local engine, whichever can see more, switching live. */
export class EngineSwitch extends EngineFeed {
  readonly #options: EngineSwitchOptions;
  /** The engine in charge: its status is shown and it takes pause, ports and interval. */
  #side: Side | null = null;
  /** The service while it gets ready to take over. */
  #pending: Side | null = null;
  #snapshot: Snapshot | null = null;
  /** Sockets of the last snapshot announced that could see: what the next side is compared with. */
  #known: readonly PortSocket[] = [];
  /** When that snapshot was taken: the last look of the side in charge. */
  #seenAt: string | null = null;
  /** Identities of the side in charge -> the identities its sockets were announced with. */
  #aliases = new Map<string, string>();
  #paused = false;
  /** Set while the service runs but this user may not read its socket: the local view says so. */
  #refused: HealthIssue | null = null;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(options: EngineSwitchOptions) {
    super();
    this.#options = options;
  }

  /** Where the snapshots come from now. */
  get source(): EngineSource {
    return this.#side?.source ?? 'local';
  }

  /** The latest snapshot announced. */
  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  /** The status of the engine in charge. */
  get status(): EngineStatus {
    return this.#side?.engine.status ?? NOT_STARTED;
  }

  /** Starts: the service if it answers, else a local engine at once. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops whichever engines run and waits for them. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  /** Scans now (the service answers with its latest snapshot). */
  async scanNow(): Promise<Snapshot> {
    if (!this.#side) throw new Error('Ghostport has not started watching yet');
    return this.#view(await this.#side.engine.scanNow());
  }

  /** Pauses the local engine (now and after a switch); the service pauses only by its unit. */
  pause(): void {
    this.#paused = true;
    this.#side?.engine.pause();
  }

  /** Resumes the local engine. */
  resume(): void {
    this.#paused = false;
    this.#side?.engine.resume();
  }

  /** The local engine's ports (a later local engine reads them from the settings). */
  setPorts(ports: readonly number[]): void {
    this.#side?.engine.setPorts(ports);
  }

  /** The local engine's interval (a later local engine reads it from the settings). */
  setIntervalMs(intervalMs: number): void {
    this.#side?.engine.setIntervalMs(intervalMs);
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    let client = await this.#connect();
    if (!client) this.#toLocal(true);
    while (!signal.aborted) {
      const remote = client ? await this.#toService(client) : null;
      if (remote) {
        await Promise.race([remote.lost, stopped]);
        if (signal.aborted) break;
        this.#toLocal(false);
      }
      await pause(this.#options.probeMs ?? 5000, signal);
      client = signal.aborted ? null : await this.#connect();
    }
    await Promise.all([this.#side, this.#pending].map((side) => side?.engine.stop()));
  }

  #connect(): Promise<ServiceClient | null> {
    const path = this.#options.socketPath;
    return ServiceClient.connect(path, this.#options.connectTimeoutMs ?? 1000).then(
      (client) => ((this.#refused = null), client),
      (error: unknown) => {
        this.#refused =
          error instanceof ServiceError && error.kind === 'denied'
            ? {
                code: 'service-refused',
                message: `The Ghostport service runs, but this user may not read its socket ${path}: this app watches on its own, with its limits.`,
                hint: `Join the socket's group (ls -l ${path} names it; sudo usermod -aG GROUP $USER) and log in again: the app then follows the service by itself.`,
              }
            : null;
        return null;
      },
    );
  }

  /** A new local engine in charge: at start, announced as it is; after the service, once it sees, compared with what was announced. */
  #toLocal(first: boolean): void {
    this.#side?.dispose();
    const side = this.#follow('local', (sink) => this.#options.createLocal(sink), first);
    side.live = first;
    this.#side = side;
    if (this.#paused) side.engine.pause();
    side.engine.start();
    this.statuses.emit(this.status);
  }

  /** The service takes over once it sees; null when it did not (the engine in charge stays). */
  async #toService(client: ServiceClient): Promise<RemoteEngine | null> {
    const side = this.#follow('service', (sink) => new RemoteEngine({ client, history: sink }), false);
    const engine = side.engine as RemoteEngine;
    this.#pending = side;
    engine.start();
    const signal = this.#stop.signal;
    const seen = await Promise.race([side.sees.then(() => true), engine.lost.then(() => false), pause(this.#options.seeTimeoutMs ?? 10_000, signal).then(() => false)]);
    let missed: PortEvent[] | null = null;
    if (seen && !signal.aborted) {
      const previous = this.#side;
      // The local engine's last scan is announced before the service's first events.
      await previous?.engine.stop();
      previous?.dispose();
      missed = await this.#missedSince(client, side.held);
    }
    this.#pending = null;
    if (missed === null || signal.aborted || engine.snapshot?.health === 'blind') {
      side.dispose();
      await engine.stop();
      if (!signal.aborted && this.#side?.engine.status.running !== true) this.#toLocal(this.#side === null);
      return null;
    }
    this.#commit(side, missed);
    return engine;
  }

  /** What the service recorded after the last look of the side in charge, each event once; null when it is lost meanwhile. */
  async #missedSince(client: ServiceClient, held: readonly PortEvent[]): Promise<PortEvent[] | null> {
    const since = this.#seenAt;
    if (since === null) return [];
    const events = new Map<string, PortEvent>();
    try {
      for await (const event of client.history({ since })) events.set(eventKey(event), event);
    } catch {
      return null;
    }
    for (const event of held) events.set(eventKey(event), event);
    return [...events.values()].filter((e) => e.at > since).sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Follows an engine: its snapshots go out once it is live; until then they decide when it takes over. */
  #follow(source: EngineSource, build: (sink: EventSink) => SwitchedEngine, reconcile: boolean): Side {
    let sees = (): void => undefined;
    const side: Side = {
      source,
      live: false,
      held: [],
      sees: new Promise<void>((resolve) => (sees = resolve)),
      engine: build({
        record: (events) => (side.live ? this.#record(events) : events.map((e) => ({ ...e, seq: 0 }))),
        // Only the engine that starts the app closes what the history holds open from before.
        completeEvidence: (late) => this.#options.history.completeEvidence?.(late) ?? [],
        ...(reconcile ? { reconcile: (sockets: readonly PortSocket[], ports: readonly number[]) => this.#options.history.reconcile?.(sockets, ports) ?? [] } : {}),
      }),
      // A side let go records nothing more (a scan asked of it during the switch is not announced).
      dispose: () => {
        side.live = false;
        offs.forEach((off) => off());
      },
    };
    const offs = [
      side.engine.onScan((snapshot, events) => {
        if (side.live) this.#announce(snapshot, events);
        else if (snapshot.health !== 'blind') {
          if (source === 'service') {
            side.held.push(...events);
            sees();
          } else this.#commit(side, []);
        }
        // A local engine after the service is blind until it sees: so is the view (never clear).
        else if (source === 'local') this.#announce(snapshot, []);
      }),
      side.engine.onStatus(() => {
        if (side === this.#side) this.statuses.emit(this.status);
      }),
      side.engine.onEvidenceCompleted((late) => {
        if (side.live) this.completions.emit(late);
      }),
    ];
    return side;
  }

  /**
   * Puts `side` in charge, announcing what changed since the last snapshot announced: what the
   * service recorded meanwhile (`missed`, for sockets neither side shows), then what went, then
   * what is new. A socket both show keeps the identity it was announced with.
   */
  #commit(side: Side, missed: readonly PortEvent[]): void {
    const now = side.engine.snapshot!;
    const before = new Map(this.#known.map((s) => [sameSocketKey(s), s]));
    const covered = new Set([...before.keys(), ...now.sockets.map(sameSocketKey)]);
    const aliases = new Map<string, string>();
    const appeared: PortSocket[] = [];
    for (const socket of now.sockets) {
      const was = before.get(sameSocketKey(socket));
      if (!was) appeared.push(socket);
      else if (was.id !== socket.id) aliases.set(socket.id, was.id);
      before.delete(sameSocketKey(socket));
    }
    this.#aliases = aliases;
    this.#side = side;
    side.live = true;
    const at = now.scannedAt;
    const change = (type: 'appeared' | 'disappeared') => (socket: PortSocket) => ({ type, at, socket, source: 'poll' as const, flapping: false });
    const events = [
      ...missed.filter((e) => e.type === 'owner-changed' || !covered.has(sameSocketKey(e.socket))).map(({ seq: _seq, ...e }) => e),
      ...[...before.values()].map(change('disappeared')),
      ...appeared.map(change('appeared')),
    ];
    this.#announce(now, this.#record(events));
    this.statuses.emit(this.status);
  }

  #record(events: readonly Omit<PortEvent, 'seq'>[]): readonly PortEvent[] {
    if (events.length === 0) return [];
    return this.#options.history.record(events.map((e) => ({ ...e, socket: this.#alias(e.socket) })));
  }

  #announce(snapshot: Snapshot, events: readonly PortEvent[]): void {
    const seen = this.#view(snapshot);
    const view = this.#refused && this.#side?.source === 'local' ? { ...seen, issues: [...seen.issues, this.#refused] } : seen;
    this.#snapshot = view;
    if (view.health !== 'blind') {
      this.#known = view.sockets;
      this.#seenAt = view.scannedAt;
    }
    this.scans.emit(view, events);
  }

  #view(snapshot: Snapshot): Snapshot {
    return this.#aliases.size === 0 ? snapshot : { ...snapshot, sockets: snapshot.sockets.map((s) => this.#alias(s)) };
  }

  #alias(socket: PortSocket): PortSocket {
    const id = this.#aliases.get(socket.id);
    return id === undefined ? socket : { ...socket, id };
  }
}
