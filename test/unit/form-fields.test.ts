/**
 * Form fields: which elements are kept and what they are called (shared/form-field-identity.ts,
 * on a minimal stand-in for the DOM: the project has no DOM test environment, and the real-browser
 * behaviour is covered by test/e2e/forms.test.ts), what the content→background check lets through,
 * and how the companion folds form events into a tab (per page, capped, forgotten when a new
 * document of that URL starts).
 */
import { describe, expect, it } from 'vitest';
import { stateFromImport } from '../../companion/session/import-export.js';
import { LiveState } from '../../companion/session-state/live-state.js';
import { CaptureEventSchema, type CaptureEvent, type CaptureEventInput } from '../../shared/capture-events.js';
import { FORM_FIELDS_PER_PAGE, FORM_PAGES_PER_TAB, FORM_VALUE_MAX_CHARS, formFieldKey, formFieldKind, readFormField } from '../../shared/form-field-identity.js';
import { asContentMessage } from '../../shared/messages/content.js';

/** Just what the identity functions read of an element and its document. */
class FakeElement {
  parentElement: FakeElement | null = null;
  children: FakeElement[] = [];
  attributes: Record<string, string>;
  form: FakeElement | null = null;
  isContentEditable = false;
  value = '';
  checked = false;
  constructor(
    readonly doc: FakeDocument,
    readonly localName: string,
    attributes: Record<string, string> = {},
  ) {
    this.attributes = attributes;
    if (attributes.value !== undefined) this.value = attributes.value;
  }
  get ownerDocument() {
    return this.doc;
  }
  get id() {
    return this.attributes.id ?? '';
  }
  get type() {
    return this.localName === 'input' ? (this.attributes.type ?? 'text') : this.localName === 'select' ? 'select-one' : this.localName;
  }
  getAttribute(name: string) {
    return this.attributes[name] ?? null;
  }
  /** Set on the elements at the top of a shadow root. */
  inRoot: FakeShadowRoot | null = null;
  getRootNode(): FakeDocument | FakeShadowRoot {
    let top: FakeElement = this;
    while (top.parentElement) top = top.parentElement;
    return top.inRoot ?? this.doc;
  }
  get previousElementSibling(): FakeElement | null {
    const siblings = this.parentElement?.children ?? this.inRoot?.children ?? [];
    return siblings[siblings.indexOf(this) - 1] ?? null;
  }
  append(...children: FakeElement[]): this {
    for (const c of children) {
      c.parentElement = this;
      this.children.push(c);
      if (this.localName === 'form' || this.form) for (const d of [c, ...descendants(c)]) d.form = this.localName === 'form' ? this : this.form;
    }
    return this;
  }
}

function descendants(el: FakeElement): FakeElement[] {
  return el.children.flatMap((c) => [c, ...descendants(c)]);
}

class FakeDocument {
  root = new FakeElement(this, 'html');
  body = new FakeElement(this, 'body');
  constructor() {
    this.root.append(this.body);
  }
  all() {
    return [this.root, ...descendants(this.root)];
  }
  getElementById(id: string) {
    return this.all().find((e) => e.id === id) ?? null;
  }
  getElementsByName(name: string) {
    return this.all().filter((e) => e.getAttribute('name') === name);
  }
  get forms() {
    return this.all().filter((e) => e.localName === 'form');
  }
  el(tag: string, attributes: Record<string, string> = {}) {
    return new FakeElement(this, tag, attributes);
  }
}

/** An open shadow root: its own ids, names and forms. */
class FakeShadowRoot {
  children: FakeElement[] = [];
  constructor(readonly host: FakeElement) {}
  append(...children: FakeElement[]): this {
    for (const c of children) {
      c.inRoot = this;
      this.children.push(c);
    }
    return this;
  }
  all() {
    return this.children.flatMap((c) => [c, ...descendants(c)]);
  }
  getElementById(id: string) {
    return this.all().find((e) => e.id === id) ?? null;
  }
  querySelectorAll(selector: string) {
    if (selector === '[name]') return this.all().filter((e) => e.getAttribute('name') !== null);
    if (selector === 'form') return this.all().filter((e) => e.localName === 'form');
    throw new Error(`the fake shadow root does not know ${selector}`);
  }
}

const asElement = (e: FakeElement) => e as unknown as Element;
const kind = (e: FakeElement) => formFieldKind(asElement(e));
const key = (e: FakeElement) => formFieldKey(asElement(e));

describe('which fields are kept', () => {
  const doc = new FakeDocument();
  it.each([
    ['text', 'text'],
    ['search', 'text'],
    ['email', 'text'],
    ['number', 'text'],
    ['date', 'text'],
    ['checkbox', 'checked'],
    ['radio', 'checked'],
  ])('input type=%s is kept as %s', (type, expected) => {
    expect(kind(doc.el('input', { type }))).toBe(expected);
  });

  it.each(['password', 'PASSWORD', 'hidden', 'file', 'submit', 'button', 'reset', 'image'])('input type=%s is never kept', (type) => {
    expect(kind(doc.el('input', { type }))).toBeNull();
  });

  it.each(['current-password', 'new-password', 'cc-number', 'cc-csc', 'cc-exp', 'section-pay billing cc-number', 'one-time-code', 'CC-NAME'])(
    'a field with autocomplete="%s" is never kept (input, textarea, select)',
    (autocomplete) => {
      expect(kind(doc.el('input', { autocomplete }))).toBeNull();
      expect(kind(doc.el('textarea', { autocomplete }))).toBeNull();
      expect(kind(doc.el('select', { autocomplete }))).toBeNull();
    },
  );

  it('textarea, select and a contenteditable host are kept; the host’s editable children and other elements are not', () => {
    expect(kind(doc.el('input', { autocomplete: 'email' }))).toBe('text');
    expect(kind(doc.el('textarea'))).toBe('text');
    expect(kind(doc.el('select'))).toBe('select');
    const host = doc.el('div');
    host.isContentEditable = true;
    const inner = doc.el('p');
    inner.isContentEditable = true;
    host.append(inner);
    expect(kind(host)).toBe('editable');
    expect(kind(inner)).toBeNull();
    expect(kind(doc.el('div'))).toBeNull();
  });
});

describe('what a field is called', () => {
  it('a unique id first; a duplicated id is no identity', () => {
    const doc = new FakeDocument();
    const a = doc.el('input', { id: 'email', name: 'e' });
    const dup1 = doc.el('input', { id: 'dup' });
    const dup2 = doc.el('input', { id: 'dup' });
    doc.body.append(a, dup1, dup2);
    expect(key(a)).toBe('#email');
    expect(key(dup2)).not.toBe('#dup');
  });

  it('else name, with the form index, tag and type; radios and checkboxes by value; repeated names counted', () => {
    const doc = new FakeDocument();
    const outside = doc.el('input', { name: 'q', type: 'search' });
    const form0 = doc.el('form');
    const form1 = doc.el('form');
    const first = doc.el('input', { name: 'item' });
    const second = doc.el('input', { name: 'item' });
    const red = doc.el('input', { name: 'color', type: 'radio', value: 'red' });
    const blue = doc.el('input', { name: 'color', type: 'radio', value: 'blue' });
    const note = doc.el('textarea', { name: 'item' });
    form0.append(first, second, note);
    form1.append(red, blue);
    doc.body.append(outside, form0, form1);
    expect(key(outside)).toBe('@-1:input:search:q');
    expect(key(first)).toBe('@0:input:text:item');
    expect(key(second)).toBe('@0:input:text:item~1');
    expect(key(note)).toBe('@0:textarea:textarea:item');
    expect(key(red)).toBe('@1:input:radio:color=red');
    expect(key(blue)).toBe('@1:input:radio:color=blue');
  });

  it('else a structural path from the nearest element with a unique id', () => {
    const doc = new FakeDocument();
    const main = doc.el('main', { id: 'app' });
    const section = doc.el('section');
    const editor = doc.el('div');
    editor.isContentEditable = true;
    const bare = doc.el('input');
    section.append(doc.el('div'), doc.el('p'), editor);
    main.append(doc.el('section'), section);
    doc.body.append(main, bare);
    expect(key(editor)).toBe('/#app>section:1>div:1');
    expect(key(bare)).toBe('/>body:0>input:0');
  });

  it("a field in an open shadow root is named inside that root (its ids, names, forms), after its host's key", () => {
    const doc = new FakeDocument();
    const light = doc.el('input', { id: 'name' });
    const card = doc.el('profile-card');
    doc.body.append(light, card);
    const inner = doc.el('input', { id: 'name' });
    const form = doc.el('form');
    const bio = doc.el('textarea', { name: 'bio' });
    const first = doc.el('input');
    const second = doc.el('input');
    form.append(bio);
    new FakeShadowRoot(card).append(first, inner, form, second);
    expect(key(light)).toBe('#name');
    expect(key(inner)).toBe('/>body:0>profile-card:0 >>> #name');
    expect(key(bio)).toBe('/>body:0>profile-card:0 >>> @0:textarea:textarea:bio');
    // Elements at the top of a shadow root are told apart (a document has one root element).
    expect(key(first)).toBe('/>body:0>profile-card:0 >>> />input:0');
    expect(key(second)).toBe('/>body:0>profile-card:0 >>> />input:2');
  });

  it('nested shadow roots chain their hosts; a host with a unique id anchors the chain', () => {
    const doc = new FakeDocument();
    const outer = doc.el('app-shell', { id: 'shell' });
    doc.body.append(outer);
    const panel = doc.el('settings-panel');
    new FakeShadowRoot(outer).append(doc.el('header'), panel);
    const field = doc.el('input', { name: 'nick' });
    new FakeShadowRoot(panel).append(field);
    expect(key(field)).toBe('#shell >>> />settings-panel:0 >>> @-1:input:text:nick');
  });

  it('the same document built again gives the same keys (a resumed page finds its fields)', () => {
    const build = () => {
      const doc = new FakeDocument();
      const form = doc.el('form');
      const fields = [doc.el('input', { name: 'a' }), doc.el('input'), doc.el('select', { id: 's' })];
      form.append(...fields);
      doc.body.append(form);
      return fields.map(key);
    };
    expect(build()).toEqual(build());
  });
});

describe('what is read', () => {
  const doc = new FakeDocument();
  it('text up to 64 KiB; a longer value is left out, not cut', () => {
    const input = doc.el('input');
    input.value = 'x'.repeat(FORM_VALUE_MAX_CHARS);
    expect(readFormField(asElement(input), 'text')).toHaveLength(FORM_VALUE_MAX_CHARS);
    input.value += 'x';
    expect(readFormField(asElement(input), 'text')).toBeNull();
  });

  it('checked state, selected option values and contenteditable text', () => {
    const box = doc.el('input', { type: 'checkbox' });
    box.checked = true;
    expect(readFormField(asElement(box), 'checked')).toBe(true);
    const select = Object.assign(doc.el('select'), { selectedOptions: [{ value: 'b' }, { value: 'c' }] });
    expect(readFormField(asElement(select), 'select')).toEqual(['b', 'c']);
    const host = Object.assign(doc.el('div'), { innerText: 'line 1\nline 2' });
    expect(readFormField(asElement(host), 'editable')).toBe('line 1\nline 2');
  });
});

describe('content → background check', () => {
  const form = (fields: unknown) => asContentMessage({ type: 'restory.form', url: 'https://a.test/f', fields });
  it('passes text, checked and selected values, and null (grown past the cap)', () => {
    expect(form([{ key: '#a', value: 'x' }, { key: '#b', value: true }, { key: '#c', value: ['1', '2'] }, { key: '#d', value: null }])).not.toBeNull();
  });
  it.each([
    ['a number', [{ key: '#a', value: 1 }]],
    ['an empty key', [{ key: '', value: 'x' }]],
    ['a value over the cap', [{ key: '#a', value: 'x'.repeat(FORM_VALUE_MAX_CHARS + 1) }]],
    ['too many fields', Array.from({ length: FORM_FIELDS_PER_PAGE + 1 }, (_, i) => ({ key: `#f${i}`, value: '' }))],
    ['no array', { key: '#a', value: 'x' }],
  ])('refuses %s (the companion would refuse the whole batch)', (_, fields) => {
    expect(form(fields)).toBeNull();
  });
});

function feed(live: LiveState, ...events: CaptureEventInput[]): LiveState {
  events.forEach((e, i) => live.apply(CaptureEventSchema.parse(e) as CaptureEvent, 1000 + i));
  return live;
}
const formEvent = (url: string, fields: Record<string, string | boolean | string[] | null>, tabId = 1): CaptureEventInput => ({
  kind: 'form',
  tabId,
  url,
  fields: Object.entries(fields).map(([key, value]) => ({ key, value })),
});
const tab1: CaptureEventInput = {
  kind: 'tabs',
  tabs: [{ tabId: 1, windowId: 1, index: 0, active: true, pinned: false, url: 'https://a.test/f', title: '' }],
  windows: [{ windowId: 1 }],
};
const formsOf = (live: LiveState) => live.toState().tabs[0].forms;

describe('LiveState forms', () => {
  it('a burst joins what the page holds; the fragment is not part of the page', () => {
    const live = feed(new LiveState(0), tab1, formEvent('https://a.test/f', { '#a': 'one', '#b': true }), formEvent('https://a.test/f#x', { '#a': 'two', '#c': ['x'] }));
    expect(formsOf(live)).toEqual([{ url: 'https://a.test/f', fields: [{ key: '#a', value: 'two' }, { key: '#b', value: true }, { key: '#c', value: ['x'] }] }]);
  });

  it('a value grown past the cap (null) forgets the shorter one held, instead of restoring it', () => {
    const live = feed(new LiveState(0), tab1, formEvent('https://a.test/f', { '#a': 'short', '#b': 'kept' }), formEvent('https://a.test/f', { '#a': null }));
    expect(formsOf(live)).toEqual([{ url: 'https://a.test/f', fields: [{ key: '#b', value: 'kept' }] }]);
    expect(formsOf(feed(live, formEvent('https://a.test/f', { '#b': null })))).toBeUndefined();
  });

  it('pages stay apart, most recently typed-in last, at most FORM_PAGES_PER_TAB', () => {
    const live = feed(new LiveState(0), tab1);
    for (let i = 0; i < FORM_PAGES_PER_TAB + 2; i++) feed(live, formEvent(`https://a.test/p${i}`, { '#a': `v${i}` }));
    feed(live, formEvent('https://a.test/p3', { '#a': 'again' }));
    const urls = formsOf(live)!.map((p) => p.url);
    expect(urls).toHaveLength(FORM_PAGES_PER_TAB);
    expect(urls.at(-1)).toBe('https://a.test/p3');
    expect(urls).not.toContain('https://a.test/p0');
    expect(formsOf(live)!.find((p) => p.url === 'https://a.test/p2')!.fields).toEqual([{ key: '#a', value: 'v2' }]);
  });

  it('a page keeps at most FORM_FIELDS_PER_PAGE fields; those it has still change', () => {
    const many = Object.fromEntries(Array.from({ length: FORM_FIELDS_PER_PAGE }, (_, i) => [`#f${i}`, 'x']));
    const live = feed(new LiveState(0), tab1, formEvent('https://a.test/f', many), formEvent('https://a.test/f', { '#extra': 'y', '#f0': 'changed' }));
    const fields = formsOf(live)![0].fields;
    expect(fields).toHaveLength(FORM_FIELDS_PER_PAGE);
    expect(fields[0]).toEqual({ key: '#f0', value: 'changed' });
    expect(fields.some((f) => f.key === '#extra')).toBe(false);
  });

  it('a new document at the URL forgets its fields; Back/Forward and reload keep them; other pages are untouched', () => {
    const typed = () => feed(new LiveState(0), tab1, formEvent('https://a.test/f', { '#a': 'x' }), formEvent('https://a.test/g', { '#b': 'y' }));
    const nav = (extra: object): CaptureEventInput => ({ kind: 'navigation', tabId: 1, url: 'https://a.test/f', how: 'commit', ...extra });
    const urls = (live: LiveState) => formsOf(live)?.map((p) => p.url);
    expect(urls(feed(typed(), nav({ transition: 'link' })))).toEqual(['https://a.test/g']);
    expect(urls(feed(typed(), nav({ entry: 'push' })))).toEqual(['https://a.test/g']);
    expect(urls(feed(typed(), nav({ transition: 'link', qualifiers: ['forward_back'] })))).toEqual(['https://a.test/f', 'https://a.test/g']);
    expect(urls(feed(typed(), nav({ entry: 'traverse' })))).toEqual(['https://a.test/f', 'https://a.test/g']);
    expect(urls(feed(typed(), nav({ transition: 'reload' })))).toEqual(['https://a.test/f', 'https://a.test/g']);
    expect(urls(feed(typed(), nav({ how: 'history', transition: 'link' })))).toEqual(['https://a.test/f', 'https://a.test/g']);
  });

  it('a tab without form events has no forms key (older snapshots keep their hash)', () => {
    expect(formsOf(feed(new LiveState(0), tab1))).toBeUndefined();
    expect('forms' in feed(new LiveState(0), tab1).toState().tabs[0]).toBe(false);
  });

  it('survives the row (toData/fromData) and a snapshot (fromState)', () => {
    const live = feed(new LiveState(0), tab1, formEvent('https://a.test/f', { '#a': 'x', '#s': ['1'] }));
    expect(LiveState.fromData(JSON.parse(JSON.stringify(live.toData()))).toState()).toEqual(live.toState());
    expect(LiveState.fromState(live.toState(), [1], [1]).toState()).toEqual(live.toState());
  });
});

describe('restory export / import', () => {
  const exportWith = (forms: unknown) => ({
    format: 'restory',
    version: 1,
    session: { id: 's', name: 'n', createdAt: 0 },
    snapshot: { id: 1, takenAt: 0, reason: 'manual' },
    state: {
      cookies: [],
      origins: [],
      windows: [{ state: 'normal', focused: true }],
      capturedAt: 0,
      tabs: [{ windowIndex: 0, index: 0, active: true, pinned: false, url: 'https://a.test/f', history: { entries: [{ url: 'https://a.test/f' }], currentIndex: 0 }, sessionStorage: [], ...(forms ? { forms } : {}) }],
    },
  });

  it('an export carries the forms and import reads them back; an export from before forms still imports', () => {
    const forms = [{ url: 'https://a.test/f', fields: [{ key: '#a', value: 'x' }, { key: '#b', value: true }, { key: '#c', value: ['1'] }] }];
    expect(stateFromImport(exportWith(forms), 'f.json', 0).state.tabs[0].forms).toEqual(forms);
    expect(stateFromImport(exportWith(undefined), 'f.json', 0).state.tabs[0].forms).toBeUndefined();
  });

  it('an import with a field over the cap is refused, not cut', () => {
    const forms = [{ url: 'https://a.test/f', fields: [{ key: '#a', value: 'x'.repeat(FORM_VALUE_MAX_CHARS + 1) }] }];
    expect(() => stateFromImport(exportWith(forms), 'f.json', 0)).toThrow();
  });
});
