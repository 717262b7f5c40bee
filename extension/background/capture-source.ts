/**
 * One capture source (cookies, navigation, tabs, page storage…). Each is a small module that
 * registers its listeners in `start` — called synchronously at the service worker's top level, so
 * that the event which woke the worker is delivered — and removes them in `stop`.
 */
import type { CaptureEvent } from '../../shared/capture-events.js';

export type Emit = (event: CaptureEvent) => void;

export interface CaptureSource {
  readonly name: string;
  start(emit: Emit): void;
  stop(): void;
  /** Send this source's complete state again (the companion lost track). */
  resync?(): void;
}
