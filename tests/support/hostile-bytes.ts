/**
 * Test helper: a real process on port 596 with a hostile name and command line, down to the
 * bytes. Python (Debian's /usr/bin/python3) re-executes itself with argv given as raw bytes
 * (invalid UTF-8 included), sets its comm with prctl(PR_SET_NAME), binds, and reports ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of the interpreter the hostile processes run on. */
export const PYTHON = '/usr/bin/python3';

const SCRIPT = String.raw`
import ctypes, os, socket, sys, time
if os.environ.get('HOSTILE_STAGE') != '2':
    os.environ['HOSTILE_STAGE'] = '2'
    with open(os.environ['HOSTILE_ARGV_FILE']) as f:
        argv = [bytes.fromhex(h) for h in f.read().split(',')]
    os.execve(sys.executable, [argv[0], __file__.encode()] + argv[1:], os.environ)
comm = bytes.fromhex(os.environ['HOSTILE_COMM'])
if comm:
    ctypes.CDLL(None).prctl(15, ctypes.c_char_p(comm), 0, 0, 0)
host, port, proto = os.environ['HOSTILE_BIND'].split(' ')
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, int(port)))
if proto == 'tcp':
    s.listen()
sys.stdout.write('ready\n')
sys.stdout.flush()
# Dies with the test that started it, however that one ends.
sys.stdin.read()
`;

/** What the hostile process looks like. */
export interface HostileSpec {
  /** argv[0] as raw bytes (or text, encoded as UTF-8). */
  readonly argv0: Uint8Array | string;
  /** Further arguments, after the script path. */
  readonly args?: readonly (Uint8Array | string)[];
  /** The kernel's short name (comm); the kernel keeps the first 15 bytes. */
  readonly comm?: Uint8Array | string;
  /** Where to bind, e.g. 127.0.0.2 and port 596. */
  readonly host: string;
  readonly port: number;
  readonly protocol?: 'tcp' | 'udp';
}

/** A running hostile process. */
export interface Hostile {
  readonly pid: number;
  /** Its full argv as the kernel holds it (argv[0], the script path, the arguments). */
  readonly argvBytes: readonly Uint8Array[];
  /** The script path, argv[1]. */
  readonly script: string;
  kill(): Promise<void>;
}

const live = new Set<Hostile>();
let scriptDir: string | null = null;
let counter = 0;

function bytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** Starts a hostile process and waits until it is bound. */
export async function startHostile(spec: HostileSpec): Promise<Hostile> {
  if (scriptDir === null) {
    scriptDir = mkdtempSync(join(tmpdir(), 'ghostport-hostile-'));
    writeFileSync(join(scriptDir, 'holder.py'), SCRIPT);
  }
  const script = join(scriptDir, 'holder.py');
  const argv = [bytes(spec.argv0), ...(spec.args ?? []).map(bytes)];
  // A file, not the environment: one environment string is capped at 128 KB (MAX_ARG_STRLEN).
  const argvFile = join(scriptDir, `argv-${++counter}.hex`);
  writeFileSync(argvFile, argv.map((a) => Buffer.from(a).toString('hex')).join(','));
  const child: ChildProcess = spawn(PYTHON, [script], {
    env: {
      PATH: '/usr/bin:/bin',
      HOSTILE_ARGV_FILE: argvFile,
      HOSTILE_COMM: Buffer.from(bytes(spec.comm ?? '')).toString('hex'),
      HOSTILE_BIND: `${spec.host} ${spec.port} ${spec.protocol ?? 'tcp'}`,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const hostile: Hostile = {
    pid: child.pid!,
    argvBytes: [argv[0]!, Buffer.from(script), ...argv.slice(1)],
    script,
    async kill() {
      live.delete(hostile);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    },
  };
  live.add(hostile);
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += String(c)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hostile process not ready in 20 s: ${err}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += String(c);
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hostile process exited with ${code}: ${err}`));
    });
  }).catch(async (error: unknown) => {
    await hostile.kill();
    throw error;
  });
  return hostile;
}

/** Kills every hostile process and removes the script. */
export async function killAllHostile(): Promise<void> {
  await Promise.all([...live].map((h) => h.kill()));
  if (scriptDir && existsSync(scriptDir)) rmSync(scriptDir, { recursive: true, force: true });
  scriptDir = null;
}

/** How Ghostport decodes bytes from /proc: UTF-8, invalid sequences as U+FFFD. */
export function decode(value: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(value);
}
