/**
 * One Chromium for a test file, launched before its first test and closed after its last,
 * and the contexts its tests open, each closed after its test, also when the test fails.
 * (Apart from helpers.ts, which bench:web imports outside vitest.)
 */
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ensureBuilt, launchBrowser, serveStatic, type StaticServer } from './helpers.ts';

/** Registers the file's hooks; the function it returns opens a context for the running test. */
export function browserPerFile(): (options?: BrowserContextOptions) => Promise<BrowserContext> {
  let browser: Browser | undefined;
  const open: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });
  return async (options) => {
    if (!browser) throw new Error('browserPerFile: no browser before the first test');
    const context = await browser.newContext(options);
    open.push(context);
    return context;
  };
}

/**
 * The built static site, served under /digits/ for the file's tests (from before the first to
 * after the last); the function it returns gives the site's URL.
 */
export function staticSitePerFile(): () => string {
  let site: StaticServer | undefined;
  beforeAll(async () => {
    site = await serveStatic(await ensureBuilt('static'), '/digits/');
  });
  afterAll(async () => {
    await site?.close();
  });
  return () => {
    if (!site) throw new Error('staticSitePerFile: no site before the first test');
    return site.url;
  };
}
