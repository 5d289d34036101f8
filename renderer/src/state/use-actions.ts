/**
 * The window's commands: each calls the API once, marks itself busy meanwhile, and reports
 * the outcome as a toast. Nothing here decides policy; the main process does (and asks for
 * native confirmation before ending a process).
 */
import { useMemo } from 'react';
import type { Dispatch } from 'react';
import type { EvidenceTarget, GhostportApi, ProcessRef, Result } from '#common/ipc-contract.ts';
import type { HistoryQuery } from '#common/history-query.ts';
import type { AllowlistEntry, Settings, SettingsPatch } from '#common/settings.ts';
import type { AppInput } from './app-reducer.ts';
import { describeEntry } from '#common/allowlist.ts';
import { escapeUnsafe } from '#common/display-text.ts';
import { settle } from './settle.ts';

/** The commands the views can trigger. Each resolves to whether it succeeded. */
export interface AppActions {
  scanNow(): Promise<boolean>;
  pause(): Promise<boolean>;
  resume(): Promise<boolean>;
  updateSettings(patch: SettingsPatch): Promise<Result<Settings>>;
  allow(entry: AllowlistEntry): Promise<boolean>;
  disallow(entry: AllowlistEntry): Promise<boolean>;
  reveal(ref: ProcessRef): Promise<boolean>;
  endProcess(ref: ProcessRef): Promise<boolean>;
  exportHistory(query: HistoryQuery, format: 'csv' | 'json'): Promise<boolean>;
  exportEvidence(target: EvidenceTarget): Promise<boolean>;
  copyText(label: string, text: string): Promise<boolean>;
  toast(tone: 'success' | 'error' | 'info', text: string): void;
}

/** Builds the commands over an API and the app reducer's dispatch. */
export function useActions(api: GhostportApi, dispatch: Dispatch<AppInput>): AppActions {
  return useMemo(() => {
    const toast = (tone: 'success' | 'error' | 'info', text: string): void => dispatch({ type: 'toast', tone, text });
    async function run<T>(action: string, call: () => Promise<Result<T>>, success: (value: T) => string | null): Promise<Result<T>> {
      dispatch({ type: 'busy', action, busy: true });
      try {
        const result = await settle(call);
        if (result.ok) {
          const text = success(result.value);
          if (text) toast('success', text);
        } else if (result.error.code !== 'cancelled') {
          toast('error', result.error.message);
        }
        return result;
      } finally {
        dispatch({ type: 'busy', action, busy: false });
      }
    }
    const succeeded = async <T,>(promise: Promise<Result<T>>): Promise<boolean> => (await promise).ok;
    return {
      toast,
      scanNow: () => succeeded(run('scan', () => api.scanNow(), () => null)),
      pause: () => succeeded(run('pause', () => api.pauseMonitoring(), () => 'Monitoring paused.')),
      resume: () => succeeded(run('pause', () => api.resumeMonitoring(), () => 'Monitoring resumed.')),
      updateSettings: (patch) => run('settings', () => api.updateSettings(patch), () => 'Settings saved.'),
      allow: (entry) =>
        succeeded(run('allowlist', () => api.addToAllowlist(entry), () => `No more alerts for ${escapeUnsafe(describeEntry(entry))}.`)),
      disallow: (entry) => succeeded(run('allowlist', () => api.removeFromAllowlist(entry), () => 'Removed from the allowlist.')),
      reveal: (ref) => succeeded(run('reveal', () => api.revealExecutable(ref), () => null)),
      endProcess: (ref) =>
        succeeded(run('end', () => api.endProcess(ref), (value) => (value.ended ? `Process ${ref.pid} ended.` : `Process ${ref.pid} was left running.`))),
      exportHistory: (query, format) =>
        succeeded(
          run('export', () => api.exportHistory({ query, format }), (value) =>
            `Exported ${value.count.toLocaleString('en-US')} event${value.count === 1 ? '' : 's'} to ${value.path}`,
          ),
        ),
      exportEvidence: (target) => succeeded(run('export-evidence', () => api.exportEvidence(target), (value) => `Evidence saved to ${value.path}`)),
      copyText: async (label, text) => {
        try {
          await navigator.clipboard.writeText(text);
          toast('success', `${label} copied.`);
          return true;
        } catch {
          toast('error', `Could not copy ${label.toLowerCase()} to the clipboard.`);
          return false;
        }
      },
    };
  }, [api, dispatch]);
}
