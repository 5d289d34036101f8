/** Entry point of the window: mounts the app over the preload API. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getGhostportApi } from './api.ts';
import { App } from './views/app.tsx';
import { ErrorBoundary } from './views/error-boundary.tsx';
import './styles/index.css';

const container = document.getElementById('root');
if (container) {
  const api = getGhostportApi();
  createRoot(container).render(
    <StrictMode>
      <ErrorBoundary>
        {api ? (
          <App api={api} />
        ) : (
          <main className="fatal" role="alert">
            <h1>Open this window from Ghostport</h1>
            <p>This page shows Ghostport{'\u2019'}s monitor and needs the app around it; it does nothing on its own.</p>
          </main>
        )}
      </ErrorBoundary>
    </StrictMode>,
  );
}
