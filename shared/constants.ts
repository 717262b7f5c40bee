/** Name under which the native messaging host is registered (reverse-DNS, lowercase, as Chromium requires). */
export const NATIVE_HOST_NAME = 'dev.restory.host';

/**
 * Public key of the extension. Chromium derives the extension id from it, so a fixed key gives the
 * same id on every machine and every fresh profile, which the host manifest's allowed_origins needs.
 */
export const EXTENSION_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAv30ozVTzH3vVK6FXyb7XyRcYf+dEpJtk/ftpsQoxk875ER6vDwR03ttU6jAQ7dajQ6BLVCwUNplEhY8Fp2Fhcn9L1FTFxA0we2gZ/duLSN68x7Ch9lo6bnrxHzliFscjtUDz8ut7CoVbZ7NchQm8oZ7+yMhjLwh28S7KH29di28D/XAcqJESyjnWHG4C+zDpcxXOSZLGigRHMxc4S6Ajx+lNpWmue2YsdDdFdzUEpfNBaplnYTeIc6MQG7Qok7TrYuthPIILVadtVqIoAlPW55eUl6HPlO/VxoMkTz84mKtPh9gnFrj+areUKA/+HmF5UkDnG4ofp5Q/Pz+X5Qxd7QIDAQAB';

/** The id Chromium derives from EXTENSION_KEY (first 128 bits of its SHA-256, hex mapped to a–p). */
export const EXTENSION_ID = 'dflokkdpfcpmmdfgakkgofakbdkbgilo';

export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}/`;

/** Bumped on any incompatible change of the protocol (shared/protocol.ts and the schemas its envelopes carry); both ends refuse a mismatch. */
export const PROTOCOL_VERSION = 1;

/** Chromium refuses host→browser messages over 1 MB. */
export const MAX_FRAME_TO_BROWSER = 1024 * 1024;
/** Chromium's own limit for browser→host messages. */
export const MAX_FRAME_FROM_BROWSER = 64 * 1024 * 1024;
/** Companion socket frames: browser traffic relayed as-is, so the larger limit applies. */
export const MAX_FRAME_SOCKET = MAX_FRAME_FROM_BROWSER;

/** Environment variables the companion sets for the browser it launches; the native host inherits them. */
export const ENV = {
  dataDir: 'RESTORY_DATA_DIR',
  socket: 'RESTORY_SOCKET',
  token: 'RESTORY_TOKEN',
  sessionId: 'RESTORY_SESSION_ID',
  chromium: 'RESTORY_CHROMIUM',
  /** For the native host of a browser started before its companion: wait for the socket until then (epoch ms). */
  companionDueBy: 'RESTORY_COMPANION_DUE_BY',
} as const;

/**
 * Path of the restore's throw-away setup page (companion/browser/restore/local-storage.ts), on every
 * origin it writes localStorage into. The content script does not capture it: the data it sees there
 * is the snapshot being restored, and diffing megabytes of it would slow the writes down.
 */
export const RESTORE_SETUP_PATH = '/__restory_setup__';

/**
 * Per origin, at most this much encoded IndexedDB JSON (characters) is captured; over it, records are
 * left out with a warning. Here, not in indexeddb.ts, because the content script needs it and must
 * not bundle zod (see test/unit/content-script-bundle.test.ts).
 */
export const INDEXEDDB_ORIGIN_CAP_CHARS = 50 * 1024 * 1024;
