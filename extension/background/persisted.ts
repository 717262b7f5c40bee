/**
 * Small pieces of state that must survive a service-worker restart.
 * chrome.storage.local: survives browser restarts too (instance id, seq reservation).
 * chrome.storage.session: survives SW restarts but not the browser (session id, outbox).
 */
const INSTANCE_KEY = 'restory.instanceId';
const SESSION_ID_KEY = 'restory.sessionId';

let instanceId: Promise<string> | undefined;

/** Random id of this extension install in this profile, created once. */
export function getInstanceId(): Promise<string> {
  instanceId ??= (async () => {
    const stored = (await chrome.storage.local.get(INSTANCE_KEY))[INSTANCE_KEY];
    if (typeof stored === 'string' && stored.length >= 8) return stored;
    const fresh = crypto.randomUUID();
    await chrome.storage.local.set({ [INSTANCE_KEY]: fresh });
    return fresh;
  })();
  return instanceId;
}

export async function saveSessionId(sessionId: string): Promise<void> {
  await chrome.storage.session.set({ [SESSION_ID_KEY]: sessionId });
}

export async function loadSessionId(): Promise<string | null> {
  const value = (await chrome.storage.session.get(SESSION_ID_KEY))[SESSION_ID_KEY];
  return typeof value === 'string' ? value : null;
}
