/**
 * The connection to the companion through the native messaging host.
 *
 * MV3 realities:
 * - An open native port keeps the service worker alive (Chrome ≥ 105), so while connected the
 *   worker is not stopped after 30 s idle. When the host is gone we retry with exponential
 *   backoff; if the worker is stopped meanwhile, the next wake (any event, or the reconnect alarm
 *   registered in index.ts) connects again.
 * - Chromium starts a fresh host process per connectNative(); when it exits, onDisconnect fires
 *   and chrome.runtime.lastError says why ("Native host has exited.", "Specified native messaging
 *   host not found.", ...). link-errors.ts turns that text into a code for the popup.
 */
import { NATIVE_HOST_NAME, PROTOCOL_VERSION } from '../../shared/constants.js';
import { CompanionMessageSchema, type CompanionMessage, type ExtensionMessage, type Response, versionMismatch } from '../../shared/protocol.js';
import type { PopupErrorInfo, PopupStatus } from '../../shared/messages/popup.js';
import { parseMessage } from '../../shared/validate.js';
import { counters } from './counters.js';
import { createDebug, warn } from './debug.js';
import { chromiumLinkError } from './link-errors.js';
import { getInstanceId, saveSessionId } from './persisted.js';

const debug = createDebug('link');
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

export interface LinkHandlers {
  /**
   * Handshake done: drop everything ≤ ackedSeq, then send the rest. `previousSessionId`: the session
   * this worker fed before (null on its first connection).
   */
  onWelcome(ackedSeq: number, previousSessionId: string | null): void;
  onAck(seq: number): void;
  onResync(): void;
  onResponse(response: Response): void;
  /** The port closed; pending requests should fail. */
  onDisconnect(reason: string): void;
}

/** What the popup's header shows; the popup-status reply is exactly this. */
export type LinkStatus = PopupStatus;

export class NativeLink {
  private port: chrome.runtime.Port | null = null;
  private state: LinkStatus['state'] = 'disconnected';
  private backoff = BACKOFF_MIN_MS;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  sessionId: string | null = null;
  lastError: PopupErrorInfo | null = null;
  /** An error frame received on the current port, if any. */
  private portError: PopupErrorInfo | null = null;

  constructor(private readonly handlers: LinkHandlers) {}

  get ready(): boolean {
    return this.state === 'ready';
  }

  status(): LinkStatus {
    return { state: this.state, sessionId: this.sessionId, lastError: this.lastError };
  }

  /** Connect unless connected or connecting. Safe to call often (alarms, wakes). */
  ensureConnected(): void {
    if (this.stopped || this.port) return;
    clearTimeout(this.retry);
    this.retry = undefined;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.port?.disconnect();
    this.port = null;
    this.state = 'disconnected';
  }

  /** Post a frame; false if not connected. */
  post(message: ExtensionMessage): boolean {
    if (!this.port) return false;
    try {
      if (message.type === 'events') counters.eventFrames++;
      this.port.postMessage(message);
      return true;
    } catch (e) {
      // The port died between onDisconnect and here; the disconnect handler takes over.
      warn('link', 'postMessage failed', e);
      return false;
    }
  }

  private async connect(): Promise<void> {
    this.state = 'connecting';
    const instanceId = await getInstanceId();
    if (this.stopped || this.port) return;
    debug(`connecting to ${NATIVE_HOST_NAME}`);
    let port: chrome.runtime.Port;
    try {
      port = chrome.runtime.connectNative(NATIVE_HOST_NAME);
    } catch (e) {
      // Thrown synchronously only for a malformed host name or a missing permission: our bug.
      this.lastError = { code: 'internal', message: e instanceof Error ? e.message : String(e) };
      this.state = 'disconnected';
      this.scheduleRetry();
      return;
    }
    this.port = port;
    this.portError = null;
    port.onMessage.addListener((raw: unknown) => this.onMessage(raw));
    port.onDisconnect.addListener(() => this.onDisconnect(port));
    this.post({ type: 'hello', v: PROTOCOL_VERSION, instanceId, extensionVersion: chrome.runtime.getManifest().version });
  }

  private onMessage(raw: unknown): void {
    let message: CompanionMessage;
    try {
      counters.zodParses++;
      message = parseMessage(CompanionMessageSchema, raw, 'message from the companion');
    } catch (e) {
      warn('link', 'ignoring an invalid message', e);
      return;
    }
    switch (message.type) {
      case 'welcome':
        if (message.v !== PROTOCOL_VERSION) {
          const reason = versionMismatch(message.v).toInfo();
          warn('link', reason.message);
          const port = this.port;
          port?.disconnect(); // does not fire our own onDisconnect
          this.onDisconnect(port, { reason, delay: BACKOFF_MAX_MS });
          return;
        }
        debug(`welcome: session ${message.sessionId}, acked ${message.ackedSeq}`);
        this.state = 'ready';
        this.backoff = BACKOFF_MIN_MS;
        this.lastError = null;
        const previous = this.sessionId;
        this.sessionId = message.sessionId;
        saveSessionId(message.sessionId).catch((e) => warn('link', 'could not store the session id', e));
        this.handlers.onWelcome(message.ackedSeq, previous);
        return;
      case 'ack':
        this.handlers.onAck(message.seq);
        return;
      case 'resync':
        debug('resync requested');
        this.handlers.onResync();
        return;
      case 'response':
        this.handlers.onResponse(message);
        return;
      case 'error':
        this.lastError = message.error;
        // The host says why before it exits (e.g. companion_unreachable); Chromium's own reason
        // that follows is only "Native host has exited.", so keep this one for the disconnect.
        this.portError = this.lastError;
        warn('link', `companion reported ${message.error.code}`, message.error.message);
        if (this.state === 'connecting') {
          // Our hello was refused (e.g. storage_failed while the disk is full). Without a welcome
          // nothing would ever be sent on this port, so drop it and try again with backoff.
          const port = this.port;
          port?.disconnect(); // does not fire our own onDisconnect
          this.onDisconnect(port, { reason: this.lastError, delay: this.backoff });
        }
        return;
    }
  }

  private onDisconnect(port: chrome.runtime.Port | null, override?: { reason: PopupErrorInfo; delay: number }): void {
    if (!port || port !== this.port) return;
    // Reading lastError here also keeps Chromium from logging "Unchecked runtime.lastError".
    const chromiumReason = chrome.runtime.lastError?.message;
    const reason = override?.reason ?? this.portError ?? chromiumLinkError(chromiumReason);
    this.lastError = reason;
    debug(`disconnected: ${reason.code}: ${reason.message}`);
    this.port = null;
    this.state = 'disconnected';
    this.handlers.onDisconnect(reason.message);
    this.scheduleRetry(override?.delay);
  }

  private scheduleRetry(delay = this.backoff): void {
    if (this.stopped) return;
    this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff * 2);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.ensureConnected();
    }, delay);
  }
}
