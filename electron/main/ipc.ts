/**
 * The one module that touches `ipcMain`: registers a handler per request of the
 * request table (sender check, then the app service) and forwards the service's pushes to the
 * window. Raw `ipcMain` is banned elsewhere (tests/architecture.test.ts).
 */
import { ipcMain } from 'electron';
import { REQUESTS } from '#common/ipc-contract.ts';
import type { AppService } from '#node/app-service.ts';
import { dispatchInvoke } from './ipc-dispatch.ts';
import type { WindowController } from './window.ts';

/** Wires the IPC contract to the service and the window; returns the teardown. */
export function setupIpc(service: AppService, window: WindowController): () => void {
  const channels = Object.values(REQUESTS).map((request) => request.channel);
  for (const channel of channels) {
    ipcMain.handle(channel, (event, ...args: unknown[]) => dispatchInvoke(service, window.trustedIds, event, channel, args));
  }
  const unsubscribe = [
    service.onStateChanged((state) => window.send('state:changed', state)),
    service.onEvents((events) => window.send('events:appended', events)),
    service.onEvidenceCompleted((late) => window.send('evidence:completed', late)),
  ];
  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
    for (const off of unsubscribe) off();
  };
}
