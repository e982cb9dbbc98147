// Debian's Chromium (headless), driven by playwright-core. No browser is
// downloaded: $CHROMIUM or /usr/bin/chromium (`apt-get install chromium`).

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { REPO } from './nodes.mjs';

/** Where shot() writes screenshots. */
export const ARTIFACTS = path.join(REPO, 'target/browser-artifacts');

/**
 * Launches headless Chromium; close it with `browser.close()`. `args`: more
 * flags (e.g. `--ignore-certificate-errors-spki-list=PIN` to trust one
 * node's own certificate).
 */
export async function launch({ args: extra = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Without the background-networking flags Chromium keeps dialling out,
    // and a closed network refuses those connections.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      // Calls: a synthetic camera and microphone, granted without a prompt.
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      ...extra,
    ],
  });
}

/**
 * A page in a fresh context (its own cookies and storage); default viewport
 * 1280×800. `page.context()` is the context.
 */
export async function newPage(browser, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  return context.newPage();
}

/**
 * The README's screenshots, by the artifact that shows them: with
 * HOTLINE_SCREENSHOTS=docs the browser tests write them into docs/ too, so
 * the README's pictures are the product as the tests saw it, never drawn by hand.
 */
const README_SHOTS = {
  'console-timeline': 'console-timeline.png',
  'console-inquiry-answered': 'console-inquiry.png',
  'call-readouts': 'console-call-readouts.png',
  'console-needs-action': 'console-needs-action.png',
  'console-link-down': 'console-link-down.png',
};

/** Screenshot to target/browser-artifacts/NAME.png (and docs/, see above); returns the path. */
export async function shot(page, name, { fullPage = false } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  if (process.env.HOTLINE_SCREENSHOTS === 'docs' && README_SHOTS[name]) {
    fs.copyFileSync(file, path.join(REPO, 'docs', README_SHOTS[name]));
  }
  return file;
}
