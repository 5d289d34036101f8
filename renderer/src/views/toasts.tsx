/** Short confirmations and errors after an action, in a live region that does not move the layout. */
import { useEffect } from 'react';
import type { Toast } from '../state/app-reducer.ts';
import { SafeText } from './safe-text.tsx';
import { Icon } from './icons.tsx';

/** How long a success or info toast stays; errors stay until dismissed. */
export const TOAST_MS = 6000;

/** Props of `Toasts`. */
export interface ToastsProps {
  readonly toasts: readonly Toast[];
  readonly onDismiss: (id: number) => void;
}

/** The toast stack. */
export function Toasts({ toasts, onDismiss }: ToastsProps) {
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {toasts.map((toast) => (
        <ToastItem key={toast.id} toast={toast} onDismiss={onDismiss} />
      ))}
    </div>
  );
}

function ToastItem({ toast, onDismiss }: { readonly toast: Toast; readonly onDismiss: (id: number) => void }) {
  useEffect(() => {
    if (toast.tone === 'error') return;
    const timer = setTimeout(() => onDismiss(toast.id), TOAST_MS);
    return () => clearTimeout(timer);
  }, [toast, onDismiss]);
  return (
    <div className={`toast tone-${toast.tone}`} role={toast.tone === 'error' ? 'alert' : undefined}>
      <Icon name={toast.tone === 'error' ? 'alert' : toast.tone === 'success' ? 'check' : 'info'} />
      {/* Messages can quote paths and process names from the main process. */}
      <SafeText value={toast.text} className="toast-text" />
      <button type="button" className="icon-button" onClick={() => onDismiss(toast.id)} aria-label="Dismiss message">
        <Icon name="x" />
      </button>
    </div>
  );
}
