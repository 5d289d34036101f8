/**
 * The window: header, notices, the three views (Now, History, Settings) and the details panel.
 * Composition only: state comes from the hooks, behaviour from the actions.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import type { GhostportApi } from '#common/ipc-contract.ts';
import type { PortEvent, PortSocket } from '#common/model.ts';
import type { DetailsTarget, Tab } from '../state/app-reducer.ts';
import { detailsProcessRef, socketOf } from '../state/app-reducer.ts';
import { useAppModel } from '../state/use-app-model.ts';
import { useActions } from '../state/use-actions.ts';
import { useNow } from '../state/use-now.ts';
import { useProcessDetails } from '../state/use-process-details.ts';
import { deriveStatus } from '../state/derive-status.ts';
import { defaultHistoryFilter } from '../state/history-filter.ts';
import type { HistoryFilter } from '../state/history-filter.ts';
import { formatDetailsText } from '../format/details-text.ts';
import { StatusHeader } from './status-header.tsx';
import { Notices } from './notices.tsx';
import { NowView } from './now-view.tsx';
import { HistoryView } from './history-view.tsx';
import { SettingsView } from './settings-view.tsx';
import { ProcessDetailsPanel } from './process-details-panel.tsx';
import { Toasts } from './toasts.tsx';

const TABS: readonly { readonly id: Tab; readonly label: string }[] = [
  { id: 'now', label: 'Now' },
  { id: 'history', label: 'History' },
  { id: 'settings', label: 'Settings' },
];

/** The whole window over one API. */
export function App({ api }: { readonly api: GhostportApi }) {
  const [model, dispatch] = useAppModel(api);
  const actions = useActions(api, dispatch);
  const now = useNow(1000);
  const [historyFilter, setHistoryFilter] = useState<HistoryFilter>(defaultHistoryFilter);
  const app = model.app;
  const status = deriveStatus(app, now);

  const details = model.details;
  const processRef = details ? detailsProcessRef(details) : null;
  const detailsSocket = details ? socketOf(details, app) : null;
  const detailsEvent = details?.kind === 'event' ? details.event : null;
  // Reload while open: when the sockets change, and every few seconds for CPU and "still running".
  const socketsKey = app?.snapshot?.sockets.map((s) => s.id).join('|') ?? '';
  const detailsData = useProcessDetails(api, processRef, `${socketsKey}#${Math.floor(now / 5000)}`);

  // Return focus to where it was when the panel closes.
  const returnFocus = useRef<HTMLElement | null>(null);
  const openDetails = useCallback(
    (target: DetailsTarget) => {
      if (document.activeElement instanceof HTMLElement && !document.activeElement.closest('.details-panel')) returnFocus.current = document.activeElement;
      dispatch({ type: 'show-details', target });
    },
    [dispatch],
  );
  const closeDetails = useCallback(() => {
    dispatch({ type: 'close-details' });
    const back = returnFocus.current;
    returnFocus.current = null;
    if (back?.isConnected) requestAnimationFrame(() => back.focus());
  }, [dispatch]);
  const dismissToast = useCallback((id: number) => dispatch({ type: 'dismiss-toast', id }), [dispatch]);

  useEffect(() => {
    document.title = status.tone === 'alert' ? `Ghostport \u2014 ${status.title}` : 'Ghostport';
  }, [status.tone, status.title]);

  if (!app) {
    return (
      <main className="app-loading" aria-busy={!model.loadError}>
        {model.loadError ? (
          <div className="fatal" role="alert">
            <h1>Cannot reach Ghostport{'\u2019'}s monitor</h1>
            <p>{model.loadError}</p>
          </div>
        ) : (
          <p className="placeholder">Connecting to the monitor{'\u2026'}</p>
        )}
      </main>
    );
  }

  const onTabKey = (event: KeyboardEvent<HTMLDivElement>): void => {
    const index = TABS.findIndex((tab) => tab.id === model.tab);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length];
    if (next) {
      dispatch({ type: 'show-tab', tab: next.id });
      document.getElementById(`tab-${next.id}`)?.focus();
    }
  };

  const selectedSocketId = details?.kind === 'socket' ? details.socket.id : details?.kind === 'process' ? details.socketId : null;
  const selectedSeq = details?.kind === 'event' ? details.event.seq : null;

  return (
    <div
      className={['app', details ? 'has-details' : ''].filter(Boolean).join(' ')}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && details) closeDetails();
      }}
    >
      <div className="app-main">
        <StatusHeader
          status={status}
          engine={app.status}
          sight={app.snapshot?.sight ?? null}
          ports={app.settings.ports}
          now={now}
          scanning={model.busy.includes('scan')}
          pausing={model.busy.includes('pause')}
          onScanNow={() => void actions.scanNow()}
          onPause={() => void actions.pause()}
          onResume={() => void actions.resume()}
        />
        <Notices notices={app.notices} dismissed={model.dismissedNotices} onDismiss={(code) => dispatch({ type: 'dismiss-notice', code })} />
        <div className="tabs" role="tablist" aria-label="Views" onKeyDown={onTabKey}>
          {TABS.map((tab) => (
            <button
              key={tab.id}
              id={`tab-${tab.id}`}
              type="button"
              role="tab"
              aria-selected={model.tab === tab.id}
              aria-controls={`panel-${tab.id}`}
              tabIndex={model.tab === tab.id ? 0 : -1}
              className={model.tab === tab.id ? 'is-on' : undefined}
              onClick={() => dispatch({ type: 'show-tab', tab: tab.id })}
            >
              {tab.label}
              {tab.id === 'now' && status.socketCount > 0 ? <span className={`count tone-${status.tone}`}>{status.socketCount}</span> : null}
            </button>
          ))}
        </div>
        <main className={`tab-panel panel-${model.tab}`} id={`panel-${model.tab}`} role="tabpanel" aria-labelledby={`tab-${model.tab}`}>
          {model.tab === 'now' ? (
            <NowView
              platform={app.platform}
              snapshot={app.snapshot}
              settings={app.settings}
              now={now}
              selectedSocketId={selectedSocketId}
              onSelect={(socket: PortSocket) => openDetails({ kind: 'socket', socket })}
            />
          ) : model.tab === 'history' ? (
            <HistoryView
              source={api}
              filter={historyFilter}
              ports={app.settings.ports}
              revision={model.historyRevision}
              now={now}
              selectedSeq={selectedSeq}
              exporting={model.busy.includes('export')}
              onFilterChange={setHistoryFilter}
              onOpen={(event: PortEvent) => openDetails({ kind: 'event', event })}
              onExport={(query, format) => void actions.exportHistory(query, format)}
            />
          ) : (
            <SettingsView
              settings={app.settings}
              notificationsSupported={app.notificationsSupported}
              platform={app.platform}
              saving={model.busy.includes('settings')}
              onSave={actions.updateSettings}
              onRemoveAllowed={(entry) => void actions.disallow(entry)}
            />
          )}
        </main>
      </div>
      {details ? (
        <ProcessDetailsPanel
          platform={app.platform}
          processRef={processRef}
          socket={detailsSocket}
          event={detailsEvent}
          details={detailsData.details}
          loading={detailsData.loading}
          error={detailsData.error}
          settings={app.settings}
          busy={model.busy}
          onClose={closeDetails}
          onCopy={() => void actions.copyText('Details', formatDetailsText({ details: detailsData.details, socket: detailsSocket, event: detailsEvent }))}
          onReveal={(ref) => void actions.reveal(ref)}
          onCopyText={(label, text) => void actions.copyText(label, text)}
          onExportEvidence={(target) => void actions.exportEvidence(target)}
          onAllow={(entry) => void actions.allow(entry)}
          onDisallow={(entry) => void actions.disallow(entry)}
          onEnd={(ref) => void actions.endProcess(ref)}
        />
      ) : null}
      <Toasts toasts={model.toasts} onDismiss={dismissToast} />
    </div>
  );
}
