/**
 * The extension's manifest, in TypeScript so the key and the host name come from shared/constants.
 * `key` fixes the extension id to EXTENSION_ID, which the native host manifest's allowed_origins needs.
 */
import { defineManifest } from '@crxjs/vite-plugin';
import { EXTENSION_KEY } from '../shared/constants.js';

export default defineManifest({
  manifest_version: 3,
  name: 'restory',
  description: 'Captures this browser session (tabs, cookies, storage, scroll) so it survives a restart.',
  version: '0.1.0',
  key: EXTENSION_KEY,
  minimum_chrome_version: '116',
  permissions: ['cookies', 'tabs', 'webNavigation', 'storage', 'alarms', 'nativeMessaging'],
  host_permissions: ['<all_urls>'],
  background: { service_worker: 'background/index.ts', type: 'module' },
  content_scripts: [
    {
      // `.iife.ts`: crxjs bundles it as one classic script; any other name gets an async ESM loader
      // and the capture would start after page scripts already ran (see DESIGN.md).
      js: ['content/main.iife.ts'],
      matches: ['<all_urls>'],
      all_frames: true,
      run_at: 'document_start',
      // about:blank / srcdoc / blob frames share storage with the frame that created them, which has
      // its own content script already; injecting there too would only report the same writes twice.
      match_about_blank: false,
    },
  ],
  action: { default_title: 'restory', default_popup: 'popup/popup.html' },
  content_security_policy: { extension_pages: "script-src 'self'; object-src 'self'" },
});
