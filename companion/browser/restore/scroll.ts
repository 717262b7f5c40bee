/** A tab's saved scroll position, applied once its page has loaded. */
import type { Page } from 'playwright-core';

/** Scroll after load; the page may still grow (late content), so retry until it sticks. */
export async function restoreScroll(page: Page, scroll: { x: number; y: number }, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = await page.evaluate(({ x, y }) => {
      window.scrollTo(x, y);
      return { x: window.scrollX, y: window.scrollY };
    }, scroll);
    if (Math.abs(at.x - scroll.x) < 1 && Math.abs(at.y - scroll.y) < 1) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
