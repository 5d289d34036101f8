/**
 * Which distribution package installed a file, and whether the file still matches it: dpkg's
 * file lists and md5sums on Debian and Ubuntu (the database directory is injectable, so tests
 * point it at a fixture copy), rpm's query and verify elsewhere when rpm is installed. A file
 * from no package is an answer too (`package: null` with the reason), and itself a signal.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageInfo } from '#common/model.ts';

/** A package lookup: the package, or null with why. */
export type PackageAnswer = { readonly package: PackageInfo; readonly reason?: undefined } | { readonly package: null; readonly reason: string };

/** Looks up the package of a file; `md5` gives the running file's MD5 (asked only for packaged files). */
export interface PackageDatabase {
  lookup(path: string, md5: () => Promise<string | null>): Promise<PackageAnswer>;
  /** Prepares whatever makes lookups fast (read before the first detection needs it). */
  warm?(): void;
}

/** dpkg's database in `dir` (default /var/lib/dpkg): file lists, md5sums and the status file. */
export class DpkgDatabase implements PackageDatabase {
  readonly #dir: string;
  readonly #owners = new Map<string, Promise<string | null>>();
  #index: { readonly mtimeMs: number; readonly built: Promise<ListIndex> } | null = null;
  #versions: { readonly mtimeMs: number; readonly map: Map<string, string> } | null = null;

  constructor(dir = '/var/lib/dpkg') {
    this.#dir = dir;
  }

  async lookup(path: string, md5: () => Promise<string | null>): Promise<PackageAnswer> {
    const candidates = usrMergeAliases(path);
    let owner: string | null = null;
    let listed = path;
    for (const candidate of candidates) {
      owner = await this.#owner(candidate);
      if (owner) {
        listed = candidate;
        break;
      }
    }
    if (!owner) return { package: null, reason: `not from a package: no dpkg package lists ${path}` };
    const name = owner.replace(/:[^:]+$/, '');
    const version = (await this.#versionMap()).get(owner) ?? (await this.#versionMap()).get(name) ?? null;
    const expected = await this.#expectedMd5(owner, listed);
    const actual = expected === null ? null : await md5();
    const modified = expected === null || actual === null ? null : expected !== actual;
    return { package: { manager: 'dpkg', name, version, modified } };
  }

  /** The package (file name of its list, e.g. `libc6:amd64`) whose list holds the path. */
  async #owner(path: string): Promise<string | null> {
    const index = await this.#listIndex();
    if (EXECUTABLE_DIR.test(path)) return index.executables.get(path) ?? null;
    if (!index.dirs.has(path.slice(0, path.lastIndexOf('/')) || '/')) return null;
    let found = this.#owners.get(path);
    if (!found) {
      found = this.#scanLists(path);
      this.#owners.set(path, found);
      if (this.#owners.size > 1024) this.#owners.delete(this.#owners.keys().next().value!);
    }
    return found;
  }

  /**
   * Read once from every file list (and again when a package is installed or removed): each
   * packaged file in a bin, sbin or libexec directory with its package, where nearly every
   * executable lives, and every directory that holds a packaged file. A lookup is then a map
   * access, or a set miss for a file in no packaged directory (/tmp, /home), instead of a read
   * of every list (7 MB here); only other paths fall back to that read.
   */
  async #listIndex(): Promise<ListIndex> {
    const info = join(this.#dir, 'info');
    const mtimeMs = (await stat(info).catch(() => null))?.mtimeMs ?? 0;
    if (this.#index?.mtimeMs !== mtimeMs) {
      const build = async (): Promise<ListIndex> => {
        const executables = new Map<string, string>();
        const dirs = new Set<string>();
        for (const file of (await readdir(info).catch(() => [])).filter((f) => f.endsWith('.list'))) {
          const owner = file.slice(0, -'.list'.length);
          for (const line of (await readFile(join(info, file), 'utf8').catch(() => '')).split('\n')) {
            if (EXECUTABLE_DIR.test(line) && !executables.has(line)) executables.set(line, owner);
            dirs.add(line.slice(0, line.lastIndexOf('/')) || '/');
          }
        }
        return { executables, dirs };
      };
      this.#index = { mtimeMs, built: build() };
      this.#owners.clear();
    }
    return this.#index.built;
  }

  /** Builds the index now (it is otherwise built by the first lookup). */
  warm(): void {
    void this.#listIndex();
  }

  async #scanLists(path: string): Promise<string | null> {
    const info = join(this.#dir, 'info');
    const needle = `\n${path}\n`;
    for (const file of (await readdir(info).catch(() => [])).filter((f) => f.endsWith('.list'))) {
      const text = await readFile(join(info, file), 'utf8').catch(() => '');
      if (`\n${text}`.includes(needle)) return file.slice(0, -'.list'.length);
    }
    return null;
  }

  async #expectedMd5(owner: string, path: string): Promise<string | null> {
    const text = await readFile(join(this.#dir, 'info', `${owner}.md5sums`), 'utf8').catch(() => '');
    const relative = path.replace(/^\//, '');
    for (const line of text.split('\n')) {
      const match = /^([0-9a-f]{32}) {2}(.*)$/.exec(line);
      if (match?.[2] === relative) return match[1]!;
    }
    return null;
  }

  /** Installed packages' versions from the status file, keyed by `name` and `name:arch`; re-read when it changes. */
  async #versionMap(): Promise<Map<string, string>> {
    const file = join(this.#dir, 'status');
    const mtimeMs = (await stat(file).catch(() => null))?.mtimeMs ?? 0;
    if (this.#versions?.mtimeMs === mtimeMs) return this.#versions.map;
    const map = new Map<string, string>();
    for (const stanza of (await readFile(file, 'utf8').catch(() => '')).split('\n\n')) {
      const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1] ?? null;
      const pkg = field('Package');
      const version = field('Version');
      if (!pkg || !version || !/installed$/.test(field('Status') ?? '')) continue;
      map.set(`${pkg}:${field('Architecture') ?? ''}`, version);
      if (!map.has(pkg)) map.set(pkg, version);
    }
    this.#versions = { mtimeMs, map };
    return map;
  }
}

interface ListIndex {
  readonly executables: ReadonlyMap<string, string>;
  readonly dirs: ReadonlySet<string>;
}

const EXECUTABLE_DIR = /\/(?:s?bin|libexec)\/[^/]+$/;

/**
 * The path and its merged-/usr twin: packages still list /bin/ls while the kernel reports
 * /usr/bin/ls (and the reverse for files moved into /usr).
 */
export function usrMergeAliases(path: string): string[] {
  const twin = /^\/usr\/(bin|sbin|lib\w*)\//.test(path)
    ? path.slice(4)
    : /^\/(bin|sbin|lib\w*)\//.test(path)
      ? `/usr${path}`
      : null;
  return twin ? [path, twin] : [path];
}

/** rpm's database through the rpm command (`-qf` to find the package, `-Vf` to check the file). */
export class RpmDatabase implements PackageDatabase {
  async lookup(path: string, _md5: () => Promise<string | null>): Promise<PackageAnswer> {
    const query = await run('rpm', ['-qf', '--qf', '%{NAME}\\t%{VERSION}-%{RELEASE}\\n', path]);
    const [name, version] = (query.ok ? query.out.split('\n')[0]! : '').split('\t');
    if (!query.ok || !name || !version) return { package: null, reason: `not from a package: no rpm package owns ${path}` };
    // `rpm -V` prints a line per changed file; a 5 in the third column means its digest differs.
    const verify = await run('rpm', ['-Vf', path]);
    const changed = verify.out.split('\n').some((line) => line.endsWith(` ${path}`) && line[2] === '5');
    return { package: { manager: 'rpm', name, version, modified: changed } };
  }
}

function run(command: string, args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    process.getBuiltinModule('node:child_process').execFile(command, args, { timeout: 5000, encoding: 'utf8' }, (error, out) => resolve({ ok: !error, out: out ?? '' }));
  });
}

/** The package database of this system: dpkg's when present, else rpm's, else none. */
export function systemPackageDatabase(): PackageDatabase {
  if (existsSync('/var/lib/dpkg/status')) return new DpkgDatabase();
  if (existsSync('/var/lib/rpm') || existsSync('/usr/lib/sysimage/rpm')) return new RpmDatabase();
  return { lookup: async () => ({ package: null, reason: 'no package database (dpkg or rpm) on this system' }) };
}
