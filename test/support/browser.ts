// A real headless browser for page tests: Debian's chromium driven by
// playwright-core (no browser download), phone and desktop pages, screenshots.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Where screenshots go: test-output/screenshots/ at the repository's root (git-ignored). */
export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-output/screenshots');

export type Device = 'phone' | 'desktop';

const DEVICES: Readonly<Record<Device, Parameters<Browser['newContext']>[0]>> = {
  // An iPhone 12–15 sized screen.
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
};

const deviceOf = new WeakMap<Page, Device>();

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: the page tests drive Debian's chromium package (no browser download). .ci/run installs it with apt; by hand: sudo apt-get install --no-install-recommends chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

/** A page in its own context sized like a phone or a desktop; closing the page closes its context. */
export async function newPage(browser: Browser, device: Device): Promise<Page> {
  const context = await browser.newContext({ ...DEVICES[device], locale: 'en-GB' });
  const page = await context.newPage();
  deviceOf.set(page, device);
  page.once('close', () => void context.close().catch(() => undefined));
  return page;
}

/**
 * Closes the page by closing its context: `page.close()` followed by the context's close
 * was seen to hang for minutes on a loaded machine after a redirect to another origin.
 */
export async function closePage(page: Page): Promise<void> {
  await page.context().close();
}

/** Writes a full-page PNG to test-output/screenshots/<name>-<phone|desktop>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)}: use lower-case letters, digits and dashes`);
  const device = deviceOf.get(page);
  if (device === undefined) throw new Error('screenshot() takes a page made by newPage()');
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}-${device}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
