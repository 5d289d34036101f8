/**
 * The man page and the completions are generated from the parser's own option table, and the
 * files in deploy/ are what the generator makes today; bash's completion is run for real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { COMMANDS, OPTIONS, type CommandName, type OptionName, type OptionSpec } from '#node/cli/args.ts';
import { referenceFiles } from '#node/cli/reference.ts';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const files = referenceFiles(version);
const has = (which: string) => spawnSync('sh', ['-c', `command -v ${which}`]).status === 0;

test('the files in deploy/ are what the option table generates (run npm run build after changing it)', () => {
  for (const [path, text] of Object.entries(files)) assert.equal(readFileSync(path, 'utf8'), text, `${path} is stale`);
});

test('the man page documents every command and every option', () => {
  const man = files['deploy/man/ghostport.1']!;
  for (const name of Object.keys(COMMANDS)) assert.match(man, new RegExp(`^\\.B ${name}$`, 'm'), name);
  for (const name of Object.keys(OPTIONS)) assert.ok(man.includes(`\\fB\\-\\-${name.replace(/-/g, '\\-')}\\fR`), `--${name}`);
});

test('the man page renders without warnings', { skip: has('groff') ? false : 'groff is not installed' }, () => {
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: files['deploy/man/ghostport.1'], encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
});

function complete(...words: string[]): string[] {
  const script = `${files['deploy/completions/ghostport.bash']}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ghostport; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('bash completes commands, exactly each command\'s options, and option values', () => {
  assert.deepEqual(complete('ghostport', ''), [...Object.keys(COMMANDS), '--help', '--version'].sort());
  for (const [name, spec] of Object.entries(COMMANDS) as [CommandName, { options: readonly OptionName[]; operand?: string }][]) {
    if (spec.operand) continue;
    const expected = spec.options.flatMap((o) => {
      const option: OptionSpec = OPTIONS[o];
      return [`--${o}`, ...(option.negatable ? [`--no-${o}`] : []), ...(option.short ? [`-${option.short}`] : [])];
    });
    assert.deepEqual(complete('ghostport', name, '-'), expected.sort(), name);
  }
  assert.deepEqual(complete('ghostport', 'scan', '--state', ''), ['connected', 'listen']);
  assert.deepEqual(complete('ghostport', 'help', ''), Object.keys(COMMANDS).sort());
});

test('the zsh completion parses', { skip: has('zsh') ? false : 'zsh is not installed' }, () => {
  assert.equal(spawnSync('zsh', ['-n'], { input: files['deploy/completions/_ghostport'] }).status, 0);
});

test('the fish completion parses', { skip: has('fish') ? false : 'fish is not installed' }, () => {
  assert.equal(spawnSync('fish', ['--no-execute'], { input: files['deploy/completions/ghostport.fish'] }).status, 0);
});
