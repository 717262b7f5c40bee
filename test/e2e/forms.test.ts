/**
 * Form fields across SIGKILL + resume, end to end with the real CLI, Chromium, extension and native
 * messaging: text typed into an input, a textarea and a contenteditable editor, an option chosen, a
 * box checked and a range moved, two fields inside a web component's open shadow root and two in
 * each of a same-site and a cross-site iframe are captured; the companion and its browser are SIGKILLed; `restory resume` puts the
 * values back into the same fields of the same page, where the page's own model sees them (input
 * and change events) — and the password typed beside them is neither stored nor restored. Another
 * tab on the same page with another URL stays empty, and a page that fills a field itself keeps its
 * own value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { RestoryExport } from '../../shared/state.js';
import { startFormsSite, type FormsSite } from '../fixtures/forms-site.js';
import { crashForeground, eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };
const PASSWORD = 'hunter2-do-not-keep';

const fieldsOf = (page: Page) =>
  page.evaluate(() => ({
    name: document.querySelector<HTMLInputElement>('#name')!.value,
    note: document.querySelector<HTMLTextAreaElement>('textarea')!.value,
    size: document.querySelector<HTMLSelectElement>('select')!.value,
    agree: document.querySelector<HTMLInputElement>('[name=agree]')!.checked,
    volume: document.querySelector<HTMLInputElement>('[name=volume]')!.value,
    pw: document.querySelector<HTMLInputElement>('#pw')!.value,
    editor: document.querySelector<HTMLElement>('#editor')!.innerText,
    cardName: document.querySelector('profile-card')!.shadowRoot!.querySelector<HTMLInputElement>('#name')!.value,
    cardBio: document.querySelector('profile-card')!.shadowRoot!.querySelector<HTMLTextAreaElement>('textarea')!.value,
  }));

/** The two iframes' fields (#same: this origin; #cross: another site, its own renderer process). */
const framesOf = async (page: Page) => {
  const read = (id: string) => ({
    city: page.frameLocator(`#${id}`).locator('[name=city]').inputValue(),
    notes: page.frameLocator(`#${id}`).locator('#notes').inputValue(),
  });
  const [same, cross] = [read('same'), read('cross')];
  return { same: { city: await same.city, notes: await same.notes }, cross: { city: await cross.city, notes: await cross.notes } };
};
const FRAMED = { same: { city: 'Paris', notes: 'same-site iframe' }, cross: { city: 'Oslo', notes: 'cross-site iframe' } };

const TYPED = {
  name: 'Ada Lovelace',
  note: 'line one\nline two',
  size: 'L',
  agree: true,
  volume: '80',
  pw: '',
  editor: 'draft in the editor',
  cardName: 'ada',
  cardBio: 'first programmer',
};

describe('form fields across SIGKILL + resume (real CLI, Chromium, extension)', () => {
  let site: FormsSite;
  let dataDir: string;
  let sessionId: string;
  let resumed: ForegroundCompanion | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;

  const exported = async (): Promise<RestoryExport> => {
    const r = await runCli(['export', sessionId, '--data-dir', dataDir], env);
    return JSON.parse(r.stdout) as RestoryExport;
  };
  const formOf = (state: RestoryExport['state'], url: string) => state.tabs.flatMap((t) => t.forms ?? []).find((p) => p.url === url);

  beforeAll(async () => {
    site = await startFormsSite();
    dataDir = tempDir();
    const first = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.origin}/form.html`], env);
    sessionId = first.sessionId;
    const b1 = await chromium.connectOverCDP(first.cdp);
    const c1 = b1.contexts()[0];
    const form = await eventually(() => c1.pages().find((p) => p.url().endsWith('/form.html')), 15_000, 'the form tab');
    await form.locator('form #name').fill(TYPED.name);
    await form.locator('form textarea').fill(TYPED.note);
    await form.locator('select').selectOption(TYPED.size);
    await form.locator('[name=agree]').check();
    await form.locator('[name=volume]').fill(TYPED.volume);
    await form.locator('#pw').fill(PASSWORD);
    await form.locator('#editor').fill(TYPED.editor);
    // Playwright's CSS locators pierce open shadow roots.
    await form.locator('profile-card #name').fill(TYPED.cardName);
    await form.locator('profile-card textarea').fill(TYPED.cardBio);
    for (const id of ['same', 'cross'] as const) {
      await form.frameLocator(`#${id}`).locator('[name=city]').fill(FRAMED[id].city);
      await form.frameLocator(`#${id}`).locator('#notes').fill(FRAMED[id].notes);
    }

    const untouched = await c1.newPage();
    await untouched.goto(`${site.origin}/form.html?copy=2`);
    const prefilled = await c1.newPage();
    await prefilled.goto(`${site.origin}/prefilled.html`);
    await prefilled.locator('#city').fill('typed by the user');

    await eventually(
      async () => {
        const state = (await exported()).state;
        const fields = formOf(state, `${site.origin}/form.html`)?.fields ?? [];
        const framed = [`${site.origin}/inner.html?same`, `${site.crossOrigin}/inner.html?cross`].every((url) => formOf(state, url)?.fields.length === 2);
        return fields.length === 8 && framed && formOf(state, `${site.origin}/prefilled.html`)?.fields.some((f) => f.value === 'typed by the user');
      },
      20_000,
      'a snapshot holding the typed fields',
    );
    const snapshot = await exported();
    // The password is nowhere in what was stored, and neither is its field.
    expect(JSON.stringify(snapshot)).not.toContain(PASSWORD);
    expect(formOf(snapshot.state, `${site.origin}/form.html`)!.fields.map((f) => f.key).sort()).toEqual(
      [
        '#editor',
        '#name',
        '@0:input:checkbox:agree=on',
        '@0:input:range:volume',
        '@0:select:select-one:size',
        '@0:textarea:textarea:note',
        '/>body:0>profile-card:0 >>> #name',
        '/>body:0>profile-card:0 >>> @-1:textarea:textarea:bio',
      ].sort(),
    );
    expect(formOf(snapshot.state, `${site.origin}/form.html?copy=2`)).toBeUndefined();
    await b1.close().catch(() => {});
    expect(await crashForeground(first, dataDir)).toBe('SIGKILL');
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(resumed);
    await site?.close();
  });

  it('resume puts back what was typed, chosen and checked, where the page’s own model sees it; never the password', async () => {
    resumed = await startForeground(['resume', sessionId, '--data-dir', dataDir], env);
    await eventually(() => /restored snapshot \d+: .* 3\/3 tabs/.test(resumed!.stdout()), 15_000, 'the resume report');
    browser = await chromium.connectOverCDP(resumed.cdp);
    context = browser.contexts()[0];
    const form = context.pages().find((p) => p.url() === `${site.origin}/form.html`)!;
    expect(await fieldsOf(form)).toEqual(TYPED);
    expect(await framesOf(form)).toEqual(FRAMED);
    // Set through the native setter in another world, announced by input/change events: the page's
    // own tracker property saw no write, its model got every value from the events.
    const seen = await form.evaluate(() => ({ model: (window as unknown as { __model: object }).__model, trackedSets: (window as unknown as { __trackedSets: number }).__trackedSets }));
    expect(seen).toEqual({
      model: { name: TYPED.name, note: TYPED.note, size: TYPED.size, agree: true, volume: TYPED.volume, editor: TYPED.editor, 'card.name': TYPED.cardName, 'card.bio': TYPED.cardBio },
      trackedSets: 0,
    });
  });

  it('the same page under another URL gets nothing; a page that fills a field itself keeps its own value', async () => {
    const untouched = context.pages().find((p) => p.url().endsWith('/form.html?copy=2'))!;
    expect(await fieldsOf(untouched)).toEqual({ name: '', note: '', size: 'S', agree: false, volume: '50', pw: '', editor: '', cardName: '', cardBio: '' });
    // Its iframes show the same documents as the first tab's, but they belong to another tab.
    expect(await framesOf(untouched)).toEqual({ same: { city: '', notes: '' }, cross: { city: '', notes: '' } });
    const prefilled = context.pages().find((p) => p.url().endsWith('/prefilled.html'))!;
    expect(await prefilled.locator('#city').inputValue()).toBe('from the page');
  });

  it('the restored values are captured again by the resumed browser (a second crash would keep them)', async () => {
    // The resumed session's tabs are new browser tabs: the snapshot's fields left with the old ones
    // at the first tabs event, so a snapshot taken after a later change holds only what was captured
    // again from the restored pages.
    await new Promise((r) => setTimeout(r, 2_000));
    const mark = Date.now();
    const later = await context.newPage();
    await later.goto(`${site.origin}/prefilled.html?later`);
    const state = await eventually(
      async () => {
        const e = await exported();
        return e.snapshot.takenAt > mark && e.state.tabs.some((t) => t.url.endsWith('?later')) && e.state;
      },
      15_000,
      'a snapshot after the resume',
    );
    expect(formOf(state, `${site.origin}/form.html`)?.fields.map((f) => f.value)).toEqual(
      expect.arrayContaining([TYPED.name, TYPED.note, [TYPED.size], true, TYPED.volume, TYPED.editor, TYPED.cardName, TYPED.cardBio]),
    );
  });
});
