/** Placeholder popup: shows whether the companion is connected. The real popup replaces this entry. */
import '../zod-setup.js';
import { PopupStatusSchema } from '../../shared/popup-messages.js';

const status = document.getElementById('status');

chrome.runtime.sendMessage({ type: 'popup-status' }).then(
  (reply: unknown) => {
    const parsed = PopupStatusSchema.safeParse(reply);
    if (!status) return;
    if (!parsed.success) status.textContent = 'Unexpected reply from the background.';
    else if (parsed.data.state === 'ready') status.textContent = `Connected — session ${parsed.data.sessionId ?? '?'}`;
    else status.textContent = `Not connected${parsed.data.lastError ? `: ${parsed.data.lastError}` : ''}. Start the companion with: restory start`;
  },
  (e: unknown) => {
    if (status) status.textContent = `Background unreachable: ${e instanceof Error ? e.message : String(e)}`;
  },
);
