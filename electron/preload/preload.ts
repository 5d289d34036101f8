/**
 * The preload of the Ghostport window: exposes `window.ghostport` (and nothing else) through
 * the context bridge. Bundled to CommonJS by electron/build/build.ts, because a sandboxed
 * preload can be neither an ES module nor `require` local files.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { createGhostportApi } from './ghostport-api.ts';

const api = createGhostportApi({
  invoke: (channel, args) => ipcRenderer.invoke(channel, ...args),
  listen(channel, listener) {
    const handler = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  },
});

contextBridge.exposeInMainWorld('ghostport', api);
