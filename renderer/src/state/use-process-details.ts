/**
 * The details of one process from the main process, reloaded when the app state changes (so
 * "still running" and its live sockets stay current while the panel is open).
 */
import { useEffect, useState } from 'react';
import type { ApiError, GhostportApi, ProcessDetails, ProcessRef } from '#common/ipc-contract.ts';
import { settle } from './settle.ts';

/** The panel's data. */
export interface ProcessDetailsData {
  readonly details: ProcessDetails | null;
  readonly loading: boolean;
  readonly error: ApiError | null;
}

/** Loads details for `ref` (none when null); `refreshKey` reloads them when it changes. */
export function useProcessDetails(api: Pick<GhostportApi, 'getProcessDetails'>, ref: ProcessRef | null, refreshKey: unknown): ProcessDetailsData {
  const [data, setData] = useState<ProcessDetailsData>({ details: null, loading: ref !== null, error: null });
  const pid = ref?.pid ?? null;
  const startedAt = ref?.startedAt ?? null;
  useEffect(() => {
    setData({ details: null, loading: pid !== null, error: null });
  }, [pid, startedAt]);
  useEffect(() => {
    if (pid === null) return;
    let live = true;
    void settle(() => api.getProcessDetails({ pid, startedAt })).then((result) => {
      if (!live) return;
      // A failed reload keeps what was shown: the captured details stay true even when the process is gone.
      setData((previous) =>
        result.ok ? { details: result.value, loading: false, error: null } : { details: previous.details, loading: false, error: result.error },
      );
    });
    return () => {
      live = false;
    };
  }, [api, pid, startedAt, refreshKey]);
  return data;
}
