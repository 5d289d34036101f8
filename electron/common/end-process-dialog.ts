/**
 * The words of the "End process?" confirmation: names the process by name, pid, user and
 * executable so the user knows exactly what they are about to kill. Pure.
 */
import { displayText } from './display-text.ts';
import type { ProcessInfo } from './model.ts';

/** Texts and buttons of the confirmation dialog; Cancel is the default and the Escape answer. */
export interface EndProcessDialog {
  readonly title: string;
  readonly message: string;
  readonly detail: string;
  readonly buttons: readonly [cancel: string, confirm: string];
  readonly defaultId: 0;
  readonly cancelId: 0;
}

/** The confirmation for ending this process. */
export function endProcessDialog(info: ProcessInfo): EndProcessDialog {
  const name = displayText(info.name, 64) || '?';
  const lines = [
    `Executable: ${info.path ? displayText(info.path, 300) : 'hidden (not elevated)'}`,
    `Command: ${displayText(info.command, 300)}`,
    `User: ${info.user ? displayText(info.user, 64) : 'unknown'}`,
    `Started: ${info.startedAt ?? 'unknown'}`,
    '',
    'Ghostport sends it SIGTERM (on Windows the process is terminated). Unsaved work in it is lost.',
  ];
  return {
    title: 'End process',
    message: `End ${name} (pid ${info.pid})?`,
    detail: lines.join('\n'),
    buttons: ['Cancel', `End ${name}`],
    defaultId: 0,
    cancelId: 0,
  };
}
