/**
 * What the kernel's events saw that the poll may not: sockets on the watched ports tracked from
 * their first state change to their last, each with its owner read the moment it appeared. After
 * every scan the engine reconciles: a tracked socket the scan saw is the poll's (its events come
 * from the poll as usual); one that came and went unseen becomes an appeared/disappeared pair.
 * A UDP datagram sent to a watched port (eBPF) is an instant: the sending socket is reported as
 * it was then, with the datagram's destination as its remote end. A TCP socket bound to a watched
 * port (eBPF: BOUND) is tracked by its endpoints like tracefs's TCP, so its listen() is the same
 * socket, and its close while only bound (eBPF again) ends it.
 * Bounded: at most MAX_TRACKED sockets at once; beyond that they are counted, not kept.
 */
import type { NetnsRef, PortSocket, ProcessInfo } from '#common/model.ts';
import type { KernelTransition } from './kernel-events.ts';

/** Most sockets tracked at once (a flood beyond this is counted). */
export const MAX_TRACKED = 4096;
// A tracked socket the poll has not seen and that has not closed is dropped after this long.
const STALE_MS = 30_000;
// A connect() is announced with local port 0 (not bound yet); its next change names the port.
const INTENT_MS = 2000;
// An owner read at an event stands for the same process's events this long after.
const OWNER_REUSE_MS = 1000;
// Sending sockets of one datagram flow sighted one by one between two scans; the rest are counted.
const FLOW_SOCKETS = 8;

interface Tracked {
  readonly key: string;
  /** The first change, with the endpoints the socket's close named where it names them better (eBPF). */
  first: KernelTransition;
  state: string;
  owner: Promise<ProcessInfo | null> | null;
  pid: number | null;
  comm: string | null;
  netns: NetnsRef | null;
  /** The command line, read synchronously at the event: the full read may come too late. */
  command: string | null;
  readonly at: number;
  closed: boolean;
  seen: boolean;
}

/** What the tracker needs from the world. */
export interface SightingsWorld {
  readProcessInfo(pid: number): Promise<ProcessInfo | null>;
  /** The command line now, synchronously (a short-lived process is gone by the next tick). */
  readCommand(pid: number): string | null;
  netnsOf(pid: number): NetnsRef | null;
  /** Ghostport's own network namespace inode, to tell the host's from others when the process is gone. */
  hostNetns?(): number | null;
  now(): number;
}

/** A socket the kernel saw appear and go between two scans, with its owner as read at the time. */
export interface KernelOnlySocket {
  readonly transition: KernelTransition;
  readonly state: string;
  readonly pid: number | null;
  readonly comm: string | null;
  readonly owner: ProcessInfo | null;
  readonly command: string | null;
  readonly netns: NetnsRef | null;
  readonly at: number;
}

interface Endpoints {
  readonly protocol?: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
}

function tupleKey(s: Endpoints): string {
  return `${s.protocol ?? 'tcp'}|${s.localAddress}|${s.localPort}|${s.remoteAddress ?? '*'}|${s.remotePort ?? '*'}`;
}

// A UDP connect is reported before the kernel picks its local port: it matches by its remote end.
function remoteKey(s: Endpoints): string {
  return `${s.protocol ?? 'tcp'}|?|${s.remoteAddress ?? '*'}|${s.remotePort ?? '*'}`;
}

/** The kernel's sightings between scans. */
export class KernelSightings {
  readonly #world: SightingsWorld;
  readonly #tracked = new Map<string, Tracked>();
  readonly #intents: { remote: string; pid: number | null; comm: string; at: number; netns: NetnsRef | null; command: string | null; owner: Promise<ProcessInfo | null> | null }[] = [];
  /** Sockets not tracked because MAX_TRACKED were already (since the last reconcile). */
  overflow = 0;
  /** Datagrams of a flow already waiting to be reported (counted into it), since start. */
  coalesced = 0;
  /** Sockets sighted per datagram flow (process, namespace, destination) since the last scan. */
  readonly #flows = new Map<string, number>();
  readonly #owners = new Map<number, { at: number; command: string | null; owner: Promise<ProcessInfo | null> }>();

  constructor(world: SightingsWorld) {
    this.#world = world;
  }

  /** Takes a batch of transitions; returns true when something new opened or closed (worth a scan). */
  take(batch: readonly KernelTransition[]): boolean {
    let news = false;
    for (const t of batch) {
      if (t.protocol === 'udp') {
        news = this.#takeUdp(t) || news;
        continue;
      }
      if (t.newState === 'SYN_SENT' && t.localPort === 0) {
        if (t.comm !== null) {
          const { pid } = t;
          this.#intents.push({
            remote: `${t.remoteAddress}|${t.remotePort}`,
            pid,
            comm: t.comm,
            at: this.#world.now(),
            command: pid === null ? null : this.#world.readCommand(pid),
            netns: pid === null ? null : this.#world.netnsOf(pid),
            owner: pid === null ? null : this.#world.readProcessInfo(pid),
          });
        }
        news = true;
        continue;
      }
      const key = tupleKey(t);
      const known = this.#tracked.get(key);
      if (t.newState === 'CLOSE') {
        if (known && !known.closed) {
          known.closed = true;
          // Out of the endpoint's slot: a socket opened on the same endpoint before the next
          // reconcile is another socket, and this one must still be reconciled.
          this.#tracked.delete(key);
          this.#tracked.set(`${key}#${t.stamp}`, known);
          news = true;
        } else if (!known && t.oldState === 'SYN_SENT' && this.#tracked.size < MAX_TRACKED) {
          // A connect() refused or timed out: it never left SYN_SENT, its port was never seen open.
          const intent = this.#takeIntent(`${t.remoteAddress}|${t.remotePort}`, t.pid);
          this.#tracked.set(key, { key, first: t, state: 'SYN_SENT', owner: intent?.owner ?? null, pid: intent?.pid ?? t.pid, comm: intent?.comm ?? t.comm, netns: intent?.netns ?? null, command: intent?.command ?? null, at: this.#world.now(), closed: true, seen: false });
          news = true;
        }
        continue;
      }
      if (known && !known.closed) {
        // The two sources are read apart: a bind read after the listen() that followed it is old news.
        if (t.newState !== 'BOUND') known.state = t.newState;
        continue;
      }
      if (this.#tracked.size >= MAX_TRACKED) {
        this.overflow++;
        continue;
      }
      const track = this.#open(key, t, false);
      if (t.pid === null && (t.oldState === 'SYN_SENT' || t.newState === 'SYN_SENT')) {
        const intent = this.#takeIntent(`${t.remoteAddress}|${t.remotePort}`);
        if (intent) Object.assign(track, { pid: intent.pid, comm: intent.comm, netns: intent.netns, command: intent.command, owner: intent.owner });
      }
      this.#tracked.set(key, track);
      news = true;
    }
    return news;
  }

  /**
   * A UDP event (eBPF): a datagram (an instant), a bind or connect (opens), or its close.
   * Datagrams of one process to one destination: each sending socket is a sighting, up to
   * FLOW_SOCKETS between two scans; beyond that (a flood from fresh sockets) they are counted.
   */
  #takeUdp(t: KernelTransition): boolean {
    // By the kernel's socket cookie: a closed socket's port may be given to the next one at once.
    const key = t.cookie === undefined ? tupleKey(t) : `udp|cookie|${t.cookie}${t.datagram ? `|${t.remoteAddress}|${t.remotePort}` : ''}`;
    if (t.datagram && !this.#tracked.has(key)) {
      const flow = `${t.pid ?? t.comm}|${t.netnsInode ?? '?'}|${t.remoteAddress}|${t.remotePort}`;
      const sockets = this.#flows.get(flow) ?? 0;
      if (sockets >= FLOW_SOCKETS) {
        this.coalesced++;
        return false;
      }
      this.#flows.set(flow, sockets + 1);
    }
    const known = this.#tracked.get(key);
    if (t.newState === 'CLOSE') {
      if (!known || known.closed) return false;
      known.closed = true;
      // The close names the local port a connect had not been given yet.
      known.first = { ...known.first, localAddress: t.localAddress, localPort: t.localPort };
      return true;
    }
    if (known && (t.datagram || !known.closed)) {
      if (t.datagram) this.coalesced++;
      return false;
    }
    if (this.#tracked.size >= MAX_TRACKED) {
      this.overflow++;
      return false;
    }
    this.#tracked.set(key, this.#open(key, t, t.datagram === true));
    return true;
  }

  /** A newly tracked socket, with its owner read now (a short-lived process is gone by the next tick). */
  #open(key: string, t: KernelTransition, closed: boolean): Tracked {
    const now = this.#world.now();
    const track: Tracked = { key, first: t, state: t.newState, owner: null, pid: t.pid, comm: t.comm, netns: null, command: null, at: now, closed, seen: false };
    if (t.pid !== null) {
      // One read per process and second: a process opening sockets in a loop is read once.
      let read = this.#owners.get(t.pid);
      if (!read || now - read.at > OWNER_REUSE_MS) {
        read = { at: now, command: this.#world.readCommand(t.pid), owner: this.#world.readProcessInfo(t.pid) };
        this.#owners.set(t.pid, read);
      }
      track.command = read.command;
      track.owner = read.owner;
    }
    track.netns = this.#netns(t);
    return track;
  }

  /** The socket's namespace: its process's, unless the kernel named another (or the process is gone). */
  #netns(t: KernelTransition): NetnsRef | null {
    const ref = t.pid === null ? null : this.#world.netnsOf(t.pid);
    if (t.netnsInode === undefined || ref?.inode === t.netnsInode) return ref;
    if (t.netnsInode === this.#world.hostNetns?.()) return { inode: t.netnsInode, host: true, label: 'host' };
    return { inode: t.netnsInode, host: false, label: t.pid === null ? `netns ${t.netnsInode}` : `pid ${t.pid} (${t.comm ?? '?'})` };
  }

  /**
   * After a scan that could see: marks what it saw, and returns (and forgets) the sockets that
   * came and went without a scan seeing them.
   */
  async reconcile(seen: readonly Pick<PortSocket, 'protocol' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort' | 'netns'>[]): Promise<KernelOnlySocket[]> {
    // A socket with the same endpoints in another namespace is another socket.
    const visible = new Set(seen.flatMap((s) => [tupleKey(s), remoteKey(s)].flatMap((k) => [k, `${k}|${s.netns?.inode ?? '?'}`])));
    const now = this.#world.now();
    const missed: KernelOnlySocket[] = [];
    for (const [key, track] of this.#tracked) {
      const tuple = track.first.localPort === 0 ? remoteKey(track.first) : tupleKey(track.first);
      if (visible.has(track.netns ? `${tuple}|${track.netns.inode}` : tuple)) track.seen = true;
      if (track.closed) {
        this.#tracked.delete(key);
        if (!track.seen) missed.push({ transition: track.first, state: track.state, pid: track.pid, comm: track.comm, owner: track.owner ? await track.owner : null, command: track.command, netns: track.netns, at: track.at });
      } else if (!track.seen && now - track.at > STALE_MS) {
        this.#tracked.delete(key);
      }
    }
    while (this.#intents.length > 0 && now - this.#intents[0]!.at > INTENT_MS) this.#intents.shift();
    for (const [pid, read] of this.#owners) if (now - read.at > OWNER_REUSE_MS) this.#owners.delete(pid);
    this.#flows.clear();
    return missed;
  }

  /** The oldest connect() announced to `remote`: by process `pid` where the change names its process (several may connect to one address at once). */
  #takeIntent(remote: string, pid: number | null = null) {
    const at = this.#intents.findIndex((i) => i.remote === remote && (pid === null || i.pid === pid));
    return at < 0 ? null : this.#intents.splice(at, 1)[0]!;
  }
}
