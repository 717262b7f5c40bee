/**
 * Which form fields restory keeps, what it calls them and what it reads from them: one definition for
 * the content script that captures (extension/content/form-capture.ts) and for the restore step that
 * finds the same field again in the resumed page (companion/browser/restore/forms.ts).
 *
 * No imports and no module-level values inside the functions: the restore step sends their source
 * text into the page (Function.prototype.toString), where nothing else of this module exists. So the
 * constants each function needs are declared inside it.
 *
 * Never kept: passwords (type=password, or autocomplete naming a password), hidden and file inputs,
 * buttons, credit-card fields (autocomplete cc-*) and one-time codes.
 */

/** A field's value as captured: text (inputs, textareas, contenteditable), checked, or a select's chosen option values. */
export type FormFieldValue = string | boolean | string[];

export interface FormField {
  key: string;
  value: FormFieldValue;
}

/** A field as capture reports it: null when its value is now too long to keep (what was kept of it is stale, so forget it). */
export interface FormFieldChange {
  key: string;
  value: FormFieldValue | null;
}

/** Longest value kept, in UTF-16 code units (64 Ki): a longer one is left out, never cut. */
export const FORM_VALUE_MAX_CHARS = 65_536;
/** Fields kept per page (URL without fragment); later new fields of that page are left out. */
export const FORM_FIELDS_PER_PAGE = 500;
/** Pages whose fields a tab keeps; the least recently typed-in page goes first. */
export const FORM_PAGES_PER_TAB = 8;
/** Longest field key (a structural path can grow with the document's depth). */
export const FORM_KEY_MAX_CHARS = 1024;

/** How a field holds its value, or null for an element restory does not keep. */
export type FormFieldKind = 'text' | 'checked' | 'select' | 'editable';

export function formFieldKind(el: Element): FormFieldKind | null {
  const sensitive = (): boolean => {
    const tokens = (el.getAttribute('autocomplete') ?? '').toLowerCase().split(/\s+/);
    return tokens.some((t) => t.includes('password') || t.startsWith('cc-') || t === 'one-time-code');
  };
  const tag = el.localName;
  if (tag === 'input') {
    const type = ((el as HTMLInputElement).type || 'text').toLowerCase();
    if (['password', 'hidden', 'file', 'submit', 'button', 'reset', 'image'].includes(type)) return null;
    if (sensitive()) return null;
    return type === 'checkbox' || type === 'radio' ? 'checked' : 'text';
  }
  if (tag === 'textarea') return sensitive() ? null : 'text';
  if (tag === 'select') return sensitive() ? null : 'select';
  // The editing host only (its descendants are part of its value); input events target the host.
  const html = el as HTMLElement;
  if (html.isContentEditable && !(html.parentElement as HTMLElement | null)?.isContentEditable) return 'editable';
  return null;
}

/**
 * What the field is called, stable across loads of the same page: `#id` when the id is unique;
 * else `@form:tag:type:name` (form = index in document.forms, -1 outside a form; checkboxes and
 * radios add `=value`; `~n` for the n-th field of that description); else a structural path from
 * the nearest element with a unique id (or the root): `/anchor>tag:n>…`. Null if none fits in
 * FORM_KEY_MAX_CHARS.
 *
 * A field inside a web component's open shadow root is named inside that root (ids, names and forms
 * are scoped to it) after its host's key: `host >>> field`, nested roots in turn. Fields in closed
 * shadow roots are not reachable (capture sees their host only) and are not kept.
 */
export function formFieldKey(el: Element): string | null {
  const maxChars = 1024;
  const doc = el.ownerDocument;
  const root = el.getRootNode() as Document | ShadowRoot;
  const host = root === doc ? null : (root as ShadowRoot).host;
  const hostKey = host ? formFieldKey(host) : '';
  if (hostKey === null) return null;
  const scoped = (key: string): string | null => {
    const full = host ? `${hostKey} >>> ${key}` : key;
    return full.length <= maxChars ? full : null;
  };
  const uniqueId = (e: Element): boolean => !!e.id && root.getElementById(e.id) === e;
  if (uniqueId(el)) return el.id.length < maxChars ? scoped(`#${el.id}`) : null;

  const name = el.getAttribute('name');
  const tag = el.localName;
  if (name && (tag === 'input' || tag === 'select' || tag === 'textarea')) {
    const forms = root === doc ? doc.forms : root.querySelectorAll('form');
    const named = root === doc ? Array.from(doc.getElementsByName(name)) : Array.from(root.querySelectorAll('[name]')).filter((e) => e.getAttribute('name') === name);
    const describe = (e: Element): string | null => {
      if (e.localName !== tag) return null;
      const control = e as HTMLInputElement;
      const form = control.form ? Array.prototype.indexOf.call(forms, control.form) : -1;
      const type = (control.type || '').toLowerCase();
      const value = type === 'checkbox' || type === 'radio' ? `=${control.value}` : '';
      return `@${form}:${tag}:${type}:${name}${value}`;
    };
    const own = describe(el);
    if (own !== null) {
      let n = 0;
      for (const other of named) {
        if (other === el) break;
        if (describe(other) === own) n++;
      }
      const key = scoped(n > 0 ? `${own}~${n}` : own);
      if (key !== null) return key;
    }
  }

  const steps: string[] = [];
  let node: Element = el;
  let anchor = '';
  for (;;) {
    const parent = node.parentElement;
    // The document's root element is always the one; a shadow root may hold several at its top.
    if (!parent && !host) break;
    if (uniqueId(node) && node !== el) {
      anchor = `#${node.id}`;
      break;
    }
    let n = 0;
    for (let sibling = node.previousElementSibling; sibling; sibling = sibling.previousElementSibling) if (sibling.localName === node.localName) n++;
    steps.push(`${node.localName}:${n}`);
    if (!parent) break;
    node = parent;
  }
  return scoped(`/${anchor}>${steps.reverse().join('>')}`);
}

/** The field's value, or null when it is too long to keep (FORM_VALUE_MAX_CHARS). */
export function readFormField(el: Element, kind: FormFieldKind): FormFieldValue | null {
  const maxChars = 65_536;
  switch (kind) {
    case 'checked':
      return (el as HTMLInputElement).checked;
    case 'select': {
      const chosen = Array.from((el as HTMLSelectElement).selectedOptions, (o) => o.value);
      return chosen.reduce((n, v) => n + v.length, 0) <= maxChars ? chosen : null;
    }
    case 'text': {
      const value = (el as HTMLInputElement | HTMLTextAreaElement).value;
      return value.length <= maxChars ? value : null;
    }
    case 'editable': {
      // Plain text: putting captured markup back would re-run whatever it holds (handlers, images).
      const text = (el as HTMLElement).innerText;
      return text.length <= maxChars ? text : null;
    }
  }
}
