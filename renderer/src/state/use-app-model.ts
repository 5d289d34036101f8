/**
 * Feeds the app reducer from the preload API: subscribes to pushes before asking for the
 * first state (so nothing pushed in between is lost) and unsubscribes on unmount.
 */
import { useEffect, useReducer } from 'react';
import type { Dispatch } from 'react';
import type { GhostportApi } from '#common/ipc-contract.ts';
import { initialAppModel, reduceApp } from './app-reducer.ts';
import type { AppInput, AppModel } from './app-reducer.ts';
import { settle } from './settle.ts';

/** The window's state and the dispatch that changes it. */
export function useAppModel(api: GhostportApi): readonly [AppModel, Dispatch<AppInput>] {
  const [model, dispatch] = useReducer(reduceApp, initialAppModel);
  useEffect(() => {
    let live = true;
    const unsubscribe = [
      api.onStateChanged((state) => dispatch({ type: 'state-loaded', state })),
      api.onEvents((events) => dispatch({ type: 'events-appended', events })),
      api.onEvidenceCompleted((evidence) => dispatch({ type: 'evidence-completed', evidence })),
      api.onOpenTarget((target) => dispatch({ type: 'open-target', target })),
    ];
    void settle(() => api.getState()).then((result) => {
      if (!live) return;
      dispatch(result.ok ? { type: 'state-loaded', state: result.value, initial: true } : { type: 'state-failed', message: result.error.message });
    });
    return () => {
      live = false;
      for (const off of unsubscribe) off();
    };
  }, [api]);
  return [model, dispatch];
}
