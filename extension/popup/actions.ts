/** The popup's actions on a session, each one companion request, turned into what the user reads. */
import type { SessionSummary } from '../../shared/state.js';
import { PopupError, request } from './background-client.js';
import { failureText, isLinkLost, resumeHeaded, type Action } from './model.js';
import type { Outcome } from './render.js';

export async function runAction(action: Action, session: SessionSummary): Promise<Outcome> {
  const sessionId = session.id;
  switch (action) {
    case 'resume': {
      // The companion launches a browser and restores into it: several seconds. The bridge gives up
      // after 60 s (popup-bridge.ts); the resume itself may still finish, and the list will show it.
      const report = await request('resume', { sessionId, headed: resumeHeaded(navigator.userAgent) });
      return { kind: 'report', report };
    }
    case 'snapshot': {
      const { snapshotId } = await request('snapshot', { sessionId });
      return {
        kind: 'info',
        message: snapshotId === null ? 'Nothing changed since the last snapshot.' : `Snapshot ${snapshotId} saved.`,
      };
    }
    case 'close':
      await request('close', { sessionId });
      return { kind: 'info', message: 'Session closed.' };
  }
}

/** An action's failure as a sentence (model.ts decides by its code). */
export function describeFailure(action: Action, error: unknown): string {
  return error instanceof PopupError ? failureText(action, error) : error instanceof Error ? error.message : String(error);
}

/** Whether an error means the connection itself is gone (show the connection screens again). */
export function isUnreachable(error: unknown): boolean {
  return error instanceof PopupError && isLinkLost(error.code);
}
