/**
 * Who a client of the service's socket is, for the log. The kernel knows (SO_PEERCRED), but Node
 * has no API for it: the netlink helper reads it through a copy of the accepted descriptor
 * (NativeProbe.peerOf). Where that cannot be done (not root, no helper, not Linux), the log says
 * what the client states in its User-Agent, marked as not verified: any client can write anything there.
 */
import { readlinkSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { PeerCredentials } from '#node/native-probe.ts';

/** Asks the kernel who is at the other end of our descriptor `fd`, the socket `inode`, within `timeoutMs`; rejects where it cannot. */
export type PeerLookup = (fd: number, inode: number, timeoutMs: number) => Promise<PeerCredentials>;

/** What the log says about a client: `client`, and the `agent` it states beside verified credentials. */
export type ClientFields = { readonly client: string; readonly agent?: string };

/** Names a request's client; asks the kernel once per connection (a keep-alive connection is one client). Never rejects. */
export type ClientNamer = (request: IncomingMessage) => Promise<ClientFields>;

/**
 * A namer that asks `lookup` (null: no way to ask, every client is named by what it states).
 * Past `timeoutMs` a client is named by what it states, however long the helper's queue.
 */
export function createClientNamer(lookup: PeerLookup | null, timeoutMs = 2000): ClientNamer {
  const named = new WeakMap<Socket, Promise<ClientFields>>();
  return (request) => {
    let fields = named.get(request.socket);
    if (!fields) {
      const agent = (request.headers['user-agent'] ?? 'unknown').slice(0, 120);
      const held = lookup && heldSocket(request.socket);
      const peer = held ? within(lookup(held.fd, held.inode, timeoutMs).catch(() => null), timeoutMs) : Promise.resolve(null);
      if (held) closeAfter(request.socket, peer);
      fields = peer.then((p) => (p ? { client: `pid=${p.pid ?? 'unknown (another PID namespace)'} uid=${p.uid} (verified)`, agent } : { client: `${agent} (stated, not verified)` }));
      named.set(request.socket, fields);
    }
    return fields;
  };
}

/**
 * The accepted connection's descriptor and the inode of its socket, read now: while its request
 * is being handled the descriptor is surely this connection's, so the helper can refuse a copy
 * that is another socket (the connection closed and the number was reused). One readlink.
 */
function heldSocket(socket: Socket): { fd: number; inode: number } | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) return null;
  try {
    const inode = /^socket:\[(\d{1,10})\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
    return inode ? { fd, inode: Number(inode) } : null;
  } catch {
    return null; // no /proc (not Linux), or already closed
  }
}

/** The promise's value, or null past `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(resolve, ms, null).unref()));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * A client that hangs up at once (curl) would have Node close the descriptor before the helper
 * copied it, and be logged as unverified: its close waits for the answer instead (bounded by the
 * lookup's timeout). The request and its response never wait.
 */
function closeAfter(socket: Socket, answered: Promise<unknown>): void {
  const destroy = socket._destroy.bind(socket);
  socket._destroy = (error, callback) => void answered.then(() => destroy(error, callback));
}
