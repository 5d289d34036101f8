/**
 * Whether an IPC message comes from the app's own window: the right web contents, its top
 * frame, and a page loaded from the app's own origin. Pure; the Electron adapter extracts
 * these facts from the IPC event (see GitHub Desktop's trusted-ipc-sender.ts for the idea).
 */
import { isAppUrl } from './app-origin.ts';

/** The facts about an IPC sender that decide whether it is trusted. */
export interface SenderFacts {
  /** `event.sender.id`. */
  readonly webContentsId: number;
  /** `event.senderFrame?.url`; null when the frame is gone (navigated away or destroyed). */
  readonly frameUrl: string | null;
  /** True when `event.senderFrame` is the top frame (`parent === null`). */
  readonly isMainFrame: boolean;
}

/** Why a sender was refused, or null when it is trusted. */
export function senderRejection(facts: SenderFacts, trustedWebContentsIds: ReadonlySet<number>): string | null {
  if (!trustedWebContentsIds.has(facts.webContentsId)) return `web contents ${facts.webContentsId} is not a Ghostport window`;
  if (facts.frameUrl === null) return 'the sending frame is gone';
  if (!facts.isMainFrame) return 'messages from subframes are not accepted';
  if (!isAppUrl(facts.frameUrl)) return "the sending page is not on Ghostport's own origin";
  return null;
}
