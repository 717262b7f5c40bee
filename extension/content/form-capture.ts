/**
 * Every frame: what the user types into form fields (shared/form-field-identity.ts says which
 * fields, and never passwords, hidden, file or card fields), open shadow roots included. Each
 * document reports its own URL: an iframe's fields are kept as a page of their own.
 *
 * Nothing happens at document start but adding two listeners, and nothing at all on a page where
 * no field changes: `input` and `change` only mark the field dirty. A burst of typing becomes one
 * message, sent QUIET_MS after the last change (at most MAX_WAIT_MS after the first, so a long
 * stretch of typing is still saved), and at once when the page is hidden or left. Each message
 * holds the changed fields only, read when it is sent (a value grown past the cap is sent as null:
 * forget it, rather than restore an older, shorter one).
 */
import type { FormFieldChange } from '../../shared/form-field-identity.js';
import { FORM_FIELDS_PER_PAGE, formFieldKey, formFieldKind, readFormField } from '../../shared/form-field-identity.js';
import { send } from './send.js';

const QUIET_MS = 500;
const MAX_WAIT_MS = 2_000;

/** The page a field belongs to: its URL without the #fragment (a fragment change keeps the document). */
function pageUrl(loc: Location): string {
  const href = loc.href;
  const hash = href.indexOf('#');
  return hash < 0 ? href : href.slice(0, hash);
}

export function startFormCapture(win: Window = window): () => void {
  const abort = new AbortController();
  const dirty = new Set<Element>();
  let url = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let firstAt = 0;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const fields: FormFieldChange[] = [];
    for (const el of dirty) {
      if (fields.length >= FORM_FIELDS_PER_PAGE) break;
      const kind = el.isConnected ? formFieldKind(el) : null;
      const key = kind && formFieldKey(el);
      // null when too long to keep: the companion forgets the shorter value it may hold.
      if (kind && key) fields.push({ key, value: readFormField(el, kind) });
    }
    dirty.clear();
    if (fields.length > 0) send({ type: 'restory.form', url, fields });
  };

  const onChange = (event: Event) => {
    // The field itself, also inside a web component's open shadow root (event.target is its host here).
    const target = event.composedPath()[0] ?? event.target;
    if (!(target instanceof Element) || formFieldKind(target) === null) return;
    // pushState between two changes: the earlier ones belong to the page they were typed on.
    const now = pageUrl(win.location);
    if (dirty.size > 0 && now !== url) flush();
    url = now;
    dirty.add(target);
    const at = Date.now();
    if (timer === undefined) firstAt = at;
    clearTimeout(timer);
    timer = setTimeout(flush, Math.max(0, Math.min(QUIET_MS, firstAt + MAX_WAIT_MS - at)));
  };
  const options = { capture: true, passive: true, signal: abort.signal };
  win.addEventListener('input', onChange, options);
  win.addEventListener('change', onChange, options);
  // Leaving or hiding the page: send what is pending now (a crash while hidden would lose it otherwise).
  const flushPending = () => timer !== undefined && flush();
  win.addEventListener('pagehide', flushPending, { signal: abort.signal });
  win.document.addEventListener('visibilitychange', () => win.document.visibilityState === 'hidden' && flushPending(), { signal: abort.signal });
  return () => {
    abort.abort();
    clearTimeout(timer);
  };
}
