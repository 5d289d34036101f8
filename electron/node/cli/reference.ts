/**
 * The man page ghostport(1) and the bash, zsh and fish completions, generated from the option
 * table in args.ts (the parser's own), so they cannot drift from it. `npm run build` writes them
 * to deploy/; a test fails when the files there differ from what this generates.
 */
import { COMMANDS, OPTIONS, synopsis, type CommandName, type CommandSpec, type OptionName, type OptionSpec } from './args.ts';

/** Generated file paths (relative to the repository root) and their contents. */
export function referenceFiles(version: string): Readonly<Record<string, string>> {
  return {
    'deploy/man/ghostport.1': manPage(version),
    'deploy/completions/ghostport.bash': bashCompletion(),
    'deploy/completions/_ghostport': zshCompletion(),
    'deploy/completions/ghostport.fish': fishCompletion(),
  };
}

const commands = () => Object.entries(COMMANDS) as [CommandName, CommandSpec][];
const optionsOf = (spec: CommandSpec) => spec.options.map((name) => [name, OPTIONS[name] as OptionSpec] as const);
/** Every spelling an option is accepted under. */
const spellings = (name: OptionName, o: OptionSpec) => [`--${name}`, ...(o.negatable ? [`--no-${name}`] : []), ...(o.short ? [`-${o.short}`] : [])];

function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}

/** ghostport(1) in man(7) format. */
export function manPage(version: string): string {
  const out = [
    `.TH GHOSTPORT 1 "" "ghostport ${version}" "User Commands"`,
    '.SH NAME',
    'ghostport \\- watch TCP and UDP port 596 and say who is on it',
    '.SH SYNOPSIS',
    ...commands().map(([name]) => `.B ${roff(synopsis(name))}\n.br`),
    '.SH DESCRIPTION',
    roff('Port 596 belongs to SMSD, a DEC protocol nothing speaks today: whatever listens on it, or talks to a remote 596, deserves a look. ghostport scans the watched ports once, watches them and records what appears and disappears, and lists that history. It uses the same engine, settings and history as the Ghostport tray app.'),
    '.SH COMMANDS',
  ];
  for (const [name, spec] of commands()) {
    out.push('.TP', `.B ${name}`, roff(`${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`));
    if (spec.options.length) out.push(roff(`Options: ${spec.options.map((o) => `--${o}`).join(', ')}.`));
  }
  out.push('.SH OPTIONS');
  for (const [name, o] of Object.entries(OPTIONS) as [OptionName, OptionSpec][]) {
    const label = spellings(name, o).map((s) => `\\fB${roff(s)}\\fR`).join(', ');
    out.push('.TP', `${label}${o.value ? ` \\fI${o.value}\\fR` : ''}`, `${roff(o.help.charAt(0).toUpperCase() + o.help.slice(1))}.`);
  }
  out.push(
    '.SH EXIT STATUS',
    '.TP', '.B 0', 'Nothing is on the watched ports (scan), or the command succeeded.',
    '.TP', '.B 1', 'Something is on a watched port (scan; allowlisted programs do not count).',
    '.TP', '.B 2', roff('An error: bad arguments, an unusable data directory, "cannot see sockets" (also nothing seen while some socket tables could not be read: not a clear), or a bug. Never 0 or 1.'),
    '.SH ENVIRONMENT',
    '.TP', '.B GHOSTPORT_DATA_DIR', roff('Data directory (settings and history), as --data-dir.'),
    '.TP', '.B GHOSTPORT_DEBUG', roff('Set to 1 to print the stack trace of an internal error.'),
    '.TP', '.B XDG_CONFIG_HOME, XDG_STATE_HOME', roff('On Linux, settings live in $XDG_CONFIG_HOME/Ghostport and the history in $XDG_STATE_HOME/Ghostport.'),
    '.SH EXAMPLES',
    '.nf',
    roff('sudo ghostport scan'),
    roff('ghostport scan --quiet || echo "something is on port 596"'),
    roff('ghostport watch --json | jq .'),
    roff('ghostport history --since 1h --limit 20'),
    '.fi',
    '.SH SEE ALSO',
    '.BR lsof (8),',
    '.BR ss (8)',
  );
  return `${out.join('\n')}\n`;
}

/** bash completion: commands, each command's options, choices and directories for values. */
export function bashCompletion(): string {
  const cases = commands().map(([name, spec]) => {
    const words = spec.operand ? Object.keys(COMMANDS).join(' ') : optionsOf(spec).flatMap(([n, o]) => spellings(n, o)).join(' ');
    return `    ${name}) words="${words}" ;;`;
  });
  const values = (Object.entries(OPTIONS) as [OptionName, OptionSpec][])
    .filter(([, o]) => o.value)
    .map(([n, o]) => `    --${n}) ${o.directory ? 'COMPREPLY=($(compgen -d -- "$cur"))' : o.choices ? `COMPREPLY=($(compgen -W "${o.choices.join(' ')}" -- "$cur"))` : 'COMPREPLY=()'}; return ;;`);
  return `# bash completion for ghostport (generated from its option table; do not edit)
_ghostport() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${Object.keys(COMMANDS).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "$prev" in
${values.join('\n')}
  esac
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _ghostport ghostport
`;
}

/** zsh completion (#compdef). */
export function zshCompletion(): string {
  const quote = (t: string) => t.replace(/'/g, "'\\''").replace(/[[\]:]/g, '\\$&');
  const specs = commands().map(([name, spec]) => {
    const args = optionsOf(spec).map(([n, o]) => {
      const action = o.value ? `:${o.value}:${o.directory ? '_files -/' : o.choices ? `(${o.choices.join(' ')})` : ' '}` : '';
      const names = spellings(n, o);
      return names.length > 1 ? `'(${names.join(' ')})'{${names.join(',')}}'[${quote(o.help)}]${action}'` : `'${names[0]}[${quote(o.help)}]${action}'`;
    });
    if (spec.operand) args.push(`'1:command:(${Object.keys(COMMANDS).join(' ')})'`);
    return `    (${name})\n      _arguments ${args.join(' \\\n        ') || "''"} ;;`;
  });
  return `#compdef ghostport
# zsh completion for ghostport (generated from its option table; do not edit)
_ghostport() {
  local -a commands
  commands=(
${commands().map(([name, spec]) => `    '${name}:${quote(spec.summary)}'`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${specs.join('\n')}
  esac
}
_ghostport "$@"
`;
}

/** fish completion. */
export function fishCompletion(): string {
  const quote = (t: string) => `'${t.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = ['# fish completion for ghostport (generated from its option table; do not edit)', 'complete -c ghostport -f'];
  const names = Object.keys(COMMANDS).join(' ');
  for (const [name, spec] of commands()) lines.push(`complete -c ghostport -n "not __fish_seen_subcommand_from ${names}" -a ${name} -d ${quote(spec.summary)}`);
  for (const [name, spec] of commands()) {
    if (spec.operand) lines.push(`complete -c ghostport -n "__fish_seen_subcommand_from ${name}" -a ${quote(names)}`);
    for (const [n, o] of optionsOf(spec)) {
      const value = o.value ? (o.directory ? ' -r -a "(__fish_complete_directories)"' : o.choices ? ` -r -a ${quote(o.choices.join(' '))}` : ' -r') : '';
      const short = o.short ? ` -s ${o.short}` : '';
      lines.push(`complete -c ghostport -n "__fish_seen_subcommand_from ${name}" -l ${n}${short}${value} -d ${quote(o.help)}`);
      if (o.negatable) lines.push(`complete -c ghostport -n "__fish_seen_subcommand_from ${name}" -l no-${n} -d ${quote(`do not ${n}`)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
