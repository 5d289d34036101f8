/**
 * What every IPC request goes through in the main process: sender check, then the app
 * service (which validates the arguments). Free of Electron imports so the security test can
 * drive it with forged senders against the real service.
 */
import type { Result } from '#common/ipc-contract.ts';
import { fail } from '#common/ipc-contract.ts';
import { senderRejection } from '#common/trusted-sender.ts';
import type { SenderFacts } from '#common/trusted-sender.ts';
import type { AppService } from '#node/app-service.ts';

/** The subset of an Electron IPC event the sender check reads. */
export interface IpcEventLike {
  readonly sender: { readonly id: number };
  readonly senderFrame: { readonly url: string; readonly parent: unknown } | null;
}

/** Extracts the facts the trusted-sender policy decides on. */
export function senderFactsOf(event: IpcEventLike): SenderFacts {
  const frame = event.senderFrame;
  return { webContentsId: event.sender.id, frameUrl: frame ? frame.url : null, isMainFrame: frame !== null && frame.parent === null };
}

/** Handles one request: refuses an untrusted sender, else hands the raw arguments to the service. */
export async function dispatchInvoke(
  service: Pick<AppService, 'invoke'>,
  trustedWebContentsIds: ReadonlySet<number>,
  event: IpcEventLike,
  channel: string,
  args: unknown,
): Promise<Result<unknown>> {
  const rejection = senderRejection(senderFactsOf(event), trustedWebContentsIds);
  if (rejection !== null) {
    console.warn(`ghostport: refused ${channel} from an untrusted sender: ${rejection}`);
    return fail('forbidden-sender', `Refused: ${rejection}.`);
  }
  return service.invoke(channel, args);
}
