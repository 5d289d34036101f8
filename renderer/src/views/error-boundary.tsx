/**
 * Catches a render error so the window shows "something went wrong" with a way back instead
 * of going blank. A class because React still offers error boundaries only as classes.
 */
import { Component } from 'react';
import type { ErrorInfo, ReactNode } from 'react';

/** Props of `ErrorBoundary`. */
export interface ErrorBoundaryProps {
  readonly children: ReactNode;
}

interface ErrorBoundaryState {
  readonly error: Error | null;
}

/** The error boundary around the whole window. */
export class ErrorBoundary extends Component<ErrorBoundaryProps, ErrorBoundaryState> {
  override state: ErrorBoundaryState = { error: null };

  static getDerivedStateFromError(error: Error): ErrorBoundaryState {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('Ghostport window: render failed', error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <main className="fatal" role="alert">
        <h1>Something went wrong in this window</h1>
        <p>Monitoring continues in the background; the tray icon stays up to date.</p>
        <pre className="mono">{this.state.error.message}</pre>
        <button type="button" className="button button-primary" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </main>
    );
  }
}
