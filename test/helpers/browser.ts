// Debian's chromium (never a downloaded browser) driven by playwright-core, for the dashboard's end-to-end tests.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT, tempDir, type Teardown } from './gateway.js';

export const CHROMIUM = process.env.SPOT_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of the browser tests (gitignored). */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test/output/dashboard');

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings, uncaught page errors and failed requests, as text: expected empty. */
  problems(): string[];
  /** Saves a PNG under SCREENSHOT_DIR and returns its path. */
  screenshot(name: string): Promise<string>;
}

/** A headless chromium with a fresh profile and one page; closed at teardown. */
export async function openBrowser(t: Teardown, viewport = { width: 1200, height: 900 }): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (make test does: apt-get install chromium)`);
  const profile = tempDir(t, 'dashboard-chromium-');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--headless', ...FLAGS], viewport, timeout: 30000 });
  t.teardown(() => context.close());
  context.setDefaultTimeout(15000);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => {
    // The live feed's request is cut when the page navigates or closes: not a failure of the page.
    if (!r.url().includes('/api/live')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    problems: () => [...problems],
    screenshot: async (name) => {
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}
