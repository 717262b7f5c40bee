/**
 * Lets a navigation and the `tabs` change it causes travel together: one frame, one ack, one
 * storage write per navigation instead of two.
 *
 * A commit is reported by webNavigation at once, but the tab's final state (URL and parsed title)
 * only shows in tabs.onUpdated once the page has loaded. The navigation source therefore hands its
 * events to this hold; the tabs source releases them right before it emits (or decides not to emit)
 * its next snapshot, so both land in the same outbox batch, in the order the companion needs
 * (navigation first: it titles the history entry from the tabs event that follows). A timer
 * releases them anyway after MAX_HOLD_MS, which bounds what holding adds to a navigation's
 * capture delay. Storage events are not held here, but the outbox waits for a release before it
 * cuts a batch (`whenReleased`), so what a page writes while it loads rides in its navigation's
 * batch: one frame, one fsync and one ack per page load instead of two. That wait is bounded by
 * MAX_HOLD_MS too, which keeps a write's worst case under the 1 s RPO.
 */
import type { CaptureEvent } from '../../shared/capture-events.js';
import type { Emit } from './capture-source.js';

/** A little over the tabs source's LOADING_MS, so that the tabs flush normally comes first. */
export const MAX_HOLD_MS = 600;

export class NavigationHold {
  private held: CaptureEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly emit: () => Emit | null) {}

  push(event: CaptureEvent): void {
    if (this.pair(event)) return;
    this.held.push(event);
    this.timer ??= setTimeout(() => this.release(), MAX_HOLD_MS);
  }

  /** Null while nothing is held; otherwise resolves right after the held events are emitted. */
  whenReleased(): Promise<void> | null {
    if (this.held.length === 0) return null;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * A navigation is reported twice: by webNavigation (transition, qualifiers) and by the page (how
   * Chromium filed the entry, `entry`). When the other half is still held, the two become one event
   * carrying both (in the earlier one's place), so a page load still sends a single navigation event.
   */
  private pair(event: CaptureEvent): boolean {
    if (event.kind !== 'navigation') return false;
    const fromPage = event.entry !== undefined;
    const i = this.held.findIndex(
      (h) => h.kind === 'navigation' && h.tabId === event.tabId && h.url === event.url && (h.entry !== undefined) !== fromPage,
    );
    if (i < 0) return false;
    const twin = this.held[i] as typeof event;
    this.held[i] = fromPage ? { ...twin, entry: event.entry } : { ...event, entry: twin.entry };
    return true;
  }

  /** Emit everything held, in order. */
  release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    this.held = [];
    const emit = this.emit();
    for (const event of held) emit?.(event);
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
