/**
 * Native notifications for new events, as decided by `planNotifications` (coalescing, rate
 * limits, allowlist). Each notification stays referenced until it is clicked, closed or
 * failed, or its click handler is lost with it (electron #16922); a click shows the window on
 * that event's process.
 */
import { Notification } from 'electron';
import { INITIAL_NOTIFIER_STATE, planNotifications } from '#common/notification-policy.ts';
import type { NotificationSpec, NotifierState } from '#common/notification-policy.ts';
import type { PortEvent } from '#common/model.ts';
import type { AppService } from '#node/app-service.ts';
import type { WindowController } from './window.ts';

// Some Linux notification daemons never report "closed": cap what is kept alive.
const MAX_LIVE = 50;

/** What the notifier needs. */
export interface NotifierDeps {
  readonly service: AppService;
  readonly window: WindowController;
  readonly iconPath: string;
}

/** The running notifier. */
export interface NotifierHandle {
  /** Notifications shown so far, newest last (at most MAX_LIVE; for the end-to-end probe). */
  readonly live: readonly { readonly spec: NotificationSpec; readonly notification: Notification }[];
  dispose(): void;
}

/** Starts notifying about events. */
export function setupNotifier(deps: NotifierDeps): NotifierHandle {
  let state: NotifierState = INITIAL_NOTIFIER_STATE;
  let retry: NodeJS.Timeout | null = null;
  const live: { spec: NotificationSpec; notification: Notification }[] = [];

  const forget = (notification: Notification) => {
    const index = live.findIndex((entry) => entry.notification === notification);
    if (index >= 0) live.splice(index, 1);
  };

  const show = (spec: NotificationSpec) => {
    const notification = new Notification({ title: spec.title, body: spec.body, icon: deps.iconPath, urgency: 'normal' });
    notification.on('click', () => {
      forget(notification);
      deps.window.show(spec.target ?? undefined);
    });
    notification.on('close', () => forget(notification));
    notification.on('failed', (_event, error) => {
      forget(notification);
      console.error('ghostport: a notification failed', error);
      deps.service.setNotice('notifications-unavailable', {
        code: 'notifications-unavailable',
        message: `Notifications cannot be shown: ${error}. The tray icon and its tooltip still show what is on the port.`,
      });
    });
    live.push({ spec, notification });
    if (live.length > MAX_LIVE) live.shift();
    notification.show();
  };

  const plan = (events: readonly PortEvent[]) => {
    if (!Notification.isSupported()) return;
    const result = planNotifications(state, events, { settings: deps.service.getState().settings, now: Date.now(), platform: process.platform });
    state = result.state;
    for (const spec of result.notifications) show(spec);
    if (retry) clearTimeout(retry);
    retry = result.retryAt === null ? null : setTimeout(() => plan([]), Math.max(0, result.retryAt - Date.now()));
  };

  const unsubscribe = deps.service.onEvents(plan);
  return {
    live,
    dispose() {
      unsubscribe();
      if (retry) clearTimeout(retry);
    },
  };
}
