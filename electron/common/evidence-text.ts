/**
 * The evidence captured at detection, in words: grouped as a responder reads it (Who, What,
 * How it started, Talking to), its warnings, and the one line a notification carries. Shared
 * by the CLI (`scan --details`), the window and the notifications. Values are raw here; the
 * text forms are escaped with the one escaper.
 */
import { describeEndpoint, describeOwner, displayText, escapeUnsafe, formatDuration, isListening } from './display-text.ts';
import type { PortSocket, ProcessInfo } from './model.ts';

/** One labelled value; a list for argv, ancestry and sockets; null when unknown (see `reason`). */
export interface EvidenceRow {
  readonly label: string;
  readonly value: string | readonly string[] | null;
  /** Why the value is unknown. */
  readonly reason?: string;
  /** True when the value is a warning a responder must not miss. */
  readonly warning?: boolean;
}

/** A titled group of rows. */
export interface EvidenceGroup {
  readonly title: 'Who' | 'What' | 'How it started' | 'Talking to';
  readonly rows: readonly EvidenceRow[];
}

/** The signals that make a process suspect, most serious first: "deleted executable", "not from a package"… */
export function evidenceWarnings(p: ProcessInfo): string[] {
  const warnings: string[] = [];
  if (p.exeDeleted === true) warnings.push('deleted executable');
  if (p.package?.modified === true) warnings.push(`modified since ${p.package.name} installed it`);
  if (p.package === null && /^not from a package/.test(p.reasons?.package ?? '')) warnings.push('not from a package');
  return warnings;
}

const row = (p: ProcessInfo, label: string, field: keyof ProcessInfo, value: string | readonly string[] | null | undefined): EvidenceRow =>
  value === null || value === undefined || (Array.isArray(value) && value.length === 0 && p.reasons?.[field])
    ? { label, value: null, ...(p.reasons?.[field] ? { reason: p.reasons[field] } : {}) }
    : { label, value };


/** The evidence of a process, grouped. */
export function evidenceGroups(p: ProcessInfo): EvidenceGroup[] {
  const pkg = p.package;
  const packageRow: EvidenceRow = pkg
    ? {
        label: 'Package',
        value: `${pkg.name}${pkg.version ? ` ${pkg.version}` : ''} (${pkg.manager})${pkg.modified === true ? ': MODIFIED since installed' : pkg.modified === null ? ': not verified' : ': file matches the package'}`,
        warning: pkg.modified === true,
      }
    : { ...row(p, 'Package', 'package', null), warning: /^not from a package/.test(p.reasons?.package ?? '') };
  const sockets = p.otherSockets;
  return [
    {
      title: 'Who',
      rows: [
        row(p, 'User', 'user', p.user === null ? null : `${p.user}${p.uid !== undefined && p.uid !== null ? ` (uid ${p.uid})` : ''}`),
        row(p, 'Unit', 'unit', p.unit),
        row(p, 'Container', 'container', p.container ? `${p.container.runtime} ${p.container.id.slice(0, 12)}` : null),
        row(p, 'Network namespace', 'netns', p.netns ? `net:[${p.netns}]` : null),
      ],
    },
    {
      title: 'What',
      rows: [
        { ...row(p, 'Executable', 'path', p.path === null ? null : `${p.path}${p.exeDeleted === true ? ' (DELETED since it started)' : ''}`), warning: p.exeDeleted === true },
        row(p, 'SHA-256', 'exeSha256', p.exeSha256),
        packageRow,
      ],
    },
    {
      title: 'How it started',
      rows: [
        row(p, 'Arguments', 'argv', p.argv ?? [p.command]),
        row(p, 'Working directory', 'cwd', p.cwd),
        row(p, 'Started', 'startedAt', p.startedAt === null ? null : `${p.startedAt}${typeof p.uptimeSeconds === 'number' ? ` (running ${formatDuration(p.uptimeSeconds * 1000)} at detection)` : ''}`),
        row(p, 'Started by', 'ancestry', p.ancestry?.map((a) => `${a.pid} ${a.name}${a.user ? ` (${a.user})` : ''}: ${a.command}`)),
      ],
    },
    {
      title: 'Talking to',
      rows: sockets && sockets.total <= 1 && sockets.listening.length === 0 && sockets.peers.length === 0
        ? [{ label: 'Other sockets', value: 'none: the socket on the watched port is its only one' }]
        : sockets
        ? [
            { label: 'Listening on', value: sockets.listening.length > 0 ? sockets.listening : ['nothing'] },
            { label: 'Connected to', value: sockets.peers.length > 0 ? sockets.peers : ['nobody'] },
            { label: 'Sockets in all', value: String(sockets.total) },
          ]
        : [row(p, 'Sockets', 'otherSockets', null)],
    },
  ];
}

/** The groups as indented text lines, escaped: the CLI's `--details` block and the copied details. */
export function formatEvidenceLines(p: ProcessInfo, indent = '  '): string[] {
  const lines: string[] = [];
  for (const group of evidenceGroups(p)) {
    lines.push(`${indent}${group.title}`);
    for (const r of group.rows) {
      const head = `${indent}  ${r.label}: `;
      if (r.value === null) lines.push(`${head}—${r.reason ? ` ${escapeUnsafe(r.reason)}` : ''}`);
      else if (typeof r.value === 'string') lines.push(`${head}${escapeUnsafe(r.value)}`);
      else {
        const chain = r.label === 'Started by';
        lines.push(`${indent}  ${r.label}:`, ...r.value.map((v, i) => `${indent}    ${chain ? ' '.repeat(i) : ''}${chain ? displayText(v, 160) : escapeUnsafe(v)}`));
      }
    }
  }
  const warnings = evidenceWarnings(p);
  if (warnings.length > 0) lines.unshift(`${indent}WARNING: ${warnings.join('; ')}`);
  return lines;
}

/** The notification's one line: "python3 (deleted executable) from cron.service listening on 596". Escaped. */
export function evidenceHeadline(s: PortSocket): string {
  const p = s.process;
  const warnings = p ? evidenceWarnings(p) : [];
  const origin = p?.unit ? ` from ${escapeUnsafe(p.unit)}` : p?.container ? ` in ${p.container.runtime} container ${escapeUnsafe(p.container.id.slice(0, 12))}` : '';
  const verb = isListening(s) ? (s.state === 'LISTEN' ? 'listening on' : 'bound to') : s.side === 'remote' ? 'connected to' : 'with a connection on';
  return `${describeOwner(s)}${warnings.length > 0 ? ` [${warnings.join(', ')}]` : ''}${origin} ${verb} ${s.watchedPort}`;
}

/** The `scan --details` block of every socket: its endpoint, the one line, then the evidence (escaped). */
export function formatDetailsBlocks(sockets: readonly PortSocket[]): string[] {
  return sockets.flatMap((s, i) => [
    '',
    `#${i + 1} ${describeEndpoint(s)}`,
    `  ${evidenceHeadline(s)}`,
    ...(s.process ? formatEvidenceLines(s.process) : [`  Owner unknown: ${escapeUnsafe(s.ownerUnknownReason ?? 'not visible')}`]),
  ]);
}
