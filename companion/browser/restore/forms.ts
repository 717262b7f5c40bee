/**
 * A tab's form fields, put back once its page has loaded: only into the page (or iframe document) they were typed into
 * (same URL, fragment aside), only into a field that is there under the same key (id, name or path;
 * shared/form-field-identity.ts) and only while it still holds the page's default (its HTML value,
 * checked or selected state; contenteditable: while empty), so a page that fills a field itself keeps
 * its own value.
 *
 * How: in an isolated world of the tab's top frame (CDP Page.createIsolatedWorld), which shares the
 * DOM but none of the page's objects, so the page's own globals and patched prototypes cannot get in
 * the way, and the fields go in as JSON arguments, never as code. A value is set through the native
 * setter, then `input` and `change` are dispatched (bubbling): frameworks that keep their own copy
 * of a field's value (React's value tracker is a property on the element in the page's world, which
 * this world does not see) read the new value from those events. Checkboxes and radios are clicked,
 * which is what React and Vue listen to for them. Fields the page renders later (an SPA after load)
 * are filled as they appear, for FOLLOW_MS; the returned counts are from the first pass. Fields in
 * web components' open shadow roots are found by walking those roots (shadowRoot is part of the shared
 * DOM, so the isolated world sees it).
 *
 * The restored values raise input events, so the tab's content script captures them again for the
 * resumed session (whose tabs are new browser tabs).
 */
import type { CDPSession, Frame, Page } from 'playwright-core';
import { formFieldKey, formFieldKind } from '../../../shared/form-field-identity.js';
import type { FormFieldData, TabState } from '../../../shared/state.js';
import { stripHash } from './strings.js';

/** How long fields that are not there yet at load are watched for. */
const FOLLOW_MS = 10_000;

export interface FormsOutcome {
  /** Set to the saved value (or already holding it). */
  filled: number;
  /** There, but the page had filled it itself (or the saved value no longer fits it): left alone. */
  kept: number;
  /** Not on the page at load; filled later if it appears within FOLLOW_MS. */
  missing: number;
}

/** The saved fields of the page the tab shows now, if any. */
export function savedFieldsFor(tab: TabState, url: string): FormFieldData[] {
  return tab.forms?.find((p) => p.url === stripHash(url))?.fields ?? [];
}

/**
 * Runs in the page's isolated world, with formFieldKind and formFieldKey declared beside it (see
 * FILL_SOURCE): nothing from this module exists there.
 */
function fillForms(fields: FormFieldData[], followMs: number): FormsOutcome {
  const wanted = new Map<string, FormFieldData['value']>(fields.map((f) => [f.key, f.value]));
  const outcome = { filled: 0, kept: 0, missing: 0 };
  const fire = (el: Element) => {
    el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  };
  const setValue = (el: HTMLInputElement | HTMLTextAreaElement, value: string) => {
    const proto = el.localName === 'textarea' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, value);
  };
  /**
   * What an input shows before anyone touches it. Not `defaultValue`: that is the raw attribute,
   * while a range, color or date input shows its sanitized form ('' → '50', '#000000'). A fresh
   * element with the same attributes shows exactly that (a clone would copy the current value too).
   */
  const untouchedValue = (input: HTMLInputElement | HTMLTextAreaElement): string => {
    if (input.localName === 'textarea') return input.defaultValue;
    const fresh = document.createElement('input');
    for (const a of Array.from(input.attributes)) fresh.setAttribute(a.name, a.value);
    return fresh.value;
  };
  /** The option a single select shows when nothing was chosen: the last marked `selected` in HTML, else the first enabled one. */
  const defaultIndex = (options: HTMLOptionElement[]): number => {
    for (let i = options.length - 1; i >= 0; i--) if (options[i].defaultSelected) return i;
    return options.findIndex((o) => !o.disabled);
  };
  const fill = (el: Element, kind: FormFieldKind, value: FormFieldData['value']): boolean => {
    switch (kind) {
      case 'text': {
        const input = el as HTMLInputElement | HTMLTextAreaElement;
        if (typeof value !== 'string' || input.value !== untouchedValue(input)) return false;
        if (input.value !== value) {
          setValue(input, value);
          fire(input);
        }
        return true;
      }
      case 'checked': {
        const box = el as HTMLInputElement;
        if (typeof value !== 'boolean' || box.checked !== box.defaultChecked) return false;
        // A radio is unchecked by checking another of its group, never by itself.
        if (box.checked !== value && (value || box.type === 'checkbox')) box.click();
        return true;
      }
      case 'select': {
        const select = el as HTMLSelectElement;
        const options = Array.from(select.options);
        if (!Array.isArray(value)) return false;
        const untouched = select.multiple ? options.every((o) => o.selected === o.defaultSelected) : select.selectedIndex === defaultIndex(options);
        if (!untouched) return false;
        if (select.multiple) {
          options.forEach((o) => (o.selected = value.includes(o.value)));
        } else {
          const index = options.findIndex((o) => o.value === value[0]);
          if (index < 0) return false;
          if (index === select.selectedIndex) return true;
          select.selectedIndex = index;
        }
        fire(select);
        return true;
      }
      case 'editable': {
        const host = el as HTMLElement;
        if (typeof value !== 'string' || host.innerText.trim() !== '') return false;
        if (value !== '') {
          host.innerText = value;
          host.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true, inputType: 'insertText' }));
        }
        return true;
      }
    }
  };
  // Fields inside web components' open shadow roots (keys with ' >>> ') are searched for only when wanted.
  const deep = Array.from(wanted.keys()).some((k) => k.includes(' >>> '));
  const candidates = (): Element[] => {
    const found: Element[] = [];
    const visit = (root: Document | ShadowRoot) => {
      found.push(...Array.from(root.querySelectorAll('input, textarea, select, [contenteditable]')));
      if (deep) for (const el of Array.from(root.querySelectorAll('*'))) if (el.shadowRoot) visit(el.shadowRoot);
    };
    visit(document);
    return found;
  };
  const pass = () => {
    for (const el of candidates()) {
      if (wanted.size === 0) return;
      const kind = formFieldKind(el);
      const key = kind && formFieldKey(el);
      if (!kind || key === null || !wanted.has(key)) continue;
      const value = wanted.get(key)!;
      wanted.delete(key);
      if (fill(el, kind, value)) outcome.filled++;
      else outcome.kept++;
    }
  };
  pass();
  const first = { ...outcome, missing: wanted.size };
  if (wanted.size > 0 && followMs > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const observer = new MutationObserver(() => {
      // One pass per 200 ms of mutations at most: an SPA may mutate the DOM thousands of times.
      timer ??= setTimeout(() => {
        timer = undefined;
        pass();
        if (wanted.size === 0) observer.disconnect();
      }, 200);
    });
    observer.observe(document, { childList: true, subtree: true });
    // Nothing observes inside shadow roots: while fields there are missing, look again twice a second.
    const poll = deep ? setInterval(() => (wanted.size > 0 ? pass() : clearInterval(poll)), 500) : undefined;
    setTimeout(() => {
      observer.disconnect();
      clearInterval(poll);
    }, followMs);
  }
  return first;
}

type FormFieldKind = NonNullable<ReturnType<typeof formFieldKind>>;

/** fillForms with the identity functions it calls, as one function declaration for Runtime.callFunctionOn. */
const FILL_SOURCE = `function (fields, followMs) {
  ${formFieldKind.toString()}
  ${formFieldKey.toString()}
  return (${fillForms.toString()})(fields, followMs);
}`;

/** Fill `fields` into one frame, from an isolated world of its own in the session that holds that frame. */
async function fillFrame(cdp: CDPSession, frameId: string, fields: FormFieldData[]): Promise<FormsOutcome> {
  const { executionContextId } = await cdp.send('Page.createIsolatedWorld', { frameId, worldName: 'restory-forms' });
  const { result, exceptionDetails } = await cdp.send('Runtime.callFunctionOn', {
    functionDeclaration: FILL_SOURCE,
    executionContextId,
    arguments: [{ value: fields }, { value: FOLLOW_MS }],
    returnByValue: true,
  });
  if (exceptionDetails) throw new Error(`filling form fields failed: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  return result.value as FormsOutcome;
}

interface FrameNode {
  frame: { id: string; url: string };
  childFrames?: FrameNode[];
}

function framesOf(tree: FrameNode): FrameNode['frame'][] {
  return [tree.frame, ...(tree.childFrames ?? []).flatMap(framesOf)];
}

/**
 * The tab's saved fields, into every frame of its page whose document has some (by URL): the top
 * frame and its iframes. An iframe of another site runs in a process of its own and is reached
 * through a CDP session of its own; a same-site one is in its parent's frame tree. Counts are summed
 * over the frames present at load; a frame that cannot be filled is skipped (`failed` counts them).
 * An iframe the page inserts later (an SPA) is filled when its document is ready, for FOLLOW_MS.
 */
export async function restoreForms(page: Page, tab: TabState): Promise<FormsOutcome & { failed: number; following: Promise<void> }> {
  const total = { filled: 0, kept: 0, missing: 0, failed: 0 };
  const saved = (url: string) => savedFieldsFor(tab, url);
  const done = new Set<string>();
  const sessions: CDPSession[] = [];
  try {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame() || saved(frame.url()).length === 0) continue;
      // Throws for a frame in its parent's process: that one is reached through the page's session.
      const own = await page.context().newCDPSession(frame).catch(() => null);
      if (own) sessions.push(own);
    }
    sessions.push(await page.context().newCDPSession(page));
    const failed = new Set<string>();
    for (const cdp of sessions) {
      for (const { id, outcome } of await fillFramesOf(cdp, saved, done)) {
        if (!outcome) failed.add(id);
        else {
          failed.delete(id);
          total.filled += outcome.filled;
          total.kept += outcome.kept;
          total.missing += outcome.missing;
        }
      }
    }
    total.failed = failed.size;
  } finally {
    await Promise.all(sessions.map((s) => s.detach().catch(() => {})));
  }
  return { ...total, following: followLateFrames(page, saved, done) };
}

/** Fill every frame in `cdp`'s frame tree that has saved fields and is not in `done` (added to it); outcome null for a frame that failed. */
async function fillFramesOf(cdp: CDPSession, saved: (url: string) => FormFieldData[], done: Set<string>): Promise<Array<{ id: string; outcome: FormsOutcome | null }>> {
  const { frameTree } = (await cdp.send('Page.getFrameTree')) as { frameTree: FrameNode };
  const outcomes: Array<{ id: string; outcome: FormsOutcome | null }> = [];
  for (const frame of framesOf(frameTree)) {
    const fields = saved(frame.url);
    if (fields.length === 0 || done.has(frame.id)) continue;
    done.add(frame.id);
    const outcome = await fillFrame(cdp, frame.id, fields).catch(() => null);
    // Another session may reach it (a cross-site frame is only reachable through its own).
    if (!outcome) done.delete(frame.id);
    outcomes.push({ id: frame.id, outcome });
  }
  return outcomes;
}

/**
 * For FOLLOW_MS after load: an iframe that navigates to a document with saved fields (one an SPA
 * inserts later) is filled once its DOM is ready, through its own session if it runs in a process of
 * its own, else through the page's. Best effort, in the background: the resume does not wait, but
 * the Playwright connection stays until the returned promise resolves (AttachedSession.release).
 */
function followLateFrames(page: Page, saved: (url: string) => FormFieldData[], done: Set<string>): Promise<void> {
  const fills = new Set<Promise<void>>();
  const onFrame = (frame: Frame) => {
    if (frame === page.mainFrame() || saved(frame.url()).length === 0) return;
    const fill = (async () => {
      await frame.waitForLoadState('domcontentloaded', { timeout: FOLLOW_MS });
      const cdp = (await page.context().newCDPSession(frame).catch(() => null)) ?? (await page.context().newCDPSession(page));
      try {
        await fillFramesOf(cdp, saved, done);
      } finally {
        await cdp.detach().catch(() => {});
      }
    })().catch(() => {});
    fills.add(fill);
  };
  page.on('framenavigated', onFrame);
  return new Promise<void>((resolve) => setTimeout(resolve, FOLLOW_MS).unref())
    .then(() => page.off('framenavigated', onFrame))
    .then(() => Promise.all(fills))
    .then(() => {});
}
