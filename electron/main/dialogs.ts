/**
 * Native dialogs the app service asks for: confirming the end of a process, choosing where to
 * save an export.
 */
import { app, dialog } from 'electron';
import type { BrowserWindow } from 'electron';
import { join } from 'node:path';
import { endProcessDialog } from '#common/end-process-dialog.ts';
import type { ExportRequest } from '#common/ipc-contract.ts';
import type { ProcessInfo } from '#common/model.ts';

/** Shows the "End process?" confirmation; true when the user chose to end it. */
export async function confirmEndProcess(parent: BrowserWindow | null, info: ProcessInfo): Promise<boolean> {
  const text = endProcessDialog(info);
  const options = {
    type: 'warning' as const,
    title: text.title,
    message: text.message,
    detail: text.detail,
    buttons: [...text.buttons],
    defaultId: text.defaultId,
    cancelId: text.cancelId,
    noLink: true,
  };
  const { response } = parent && !parent.isDestroyed() ? await dialog.showMessageBox(parent, options) : await dialog.showMessageBox(options);
  return response === 1;
}

/** Asks where to save an export; null when cancelled. */
export async function chooseExportPath(parent: BrowserWindow | null, suggestedName: string, format: ExportRequest['format']): Promise<string | null> {
  const options = {
    title: 'Export Ghostport history',
    defaultPath: join(app.getPath('downloads'), suggestedName),
    filters: format === 'csv' ? [{ name: 'CSV', extensions: ['csv'] }] : [{ name: 'JSON', extensions: ['json'] }],
    properties: ['createDirectory', 'showOverwriteConfirmation'] as ('createDirectory' | 'showOverwriteConfirmation')[],
  };
  const { canceled, filePath } = parent && !parent.isDestroyed() ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
  return canceled || !filePath ? null : filePath;
}
