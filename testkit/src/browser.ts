import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { launchTestStore, type LaunchedStore } from './launcher.js';
import { repoPath } from './paths.js';
import { tempDir } from './store.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Debian's Chromium (apt-get install chromium), or CHROMIUM_PATH. */
export function findChromium(): string | undefined {
  const own = process.env.CHROMIUM_PATH;
  if (own) return existsSync(own) ? own : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** Browser tests skip only when Chromium is missing outside CI; in CI they fail. */
export const skipWithoutChromium = findChromium() === undefined && !process.env.CI;

/** A headless Chromium driven by playwright-core. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('Chromium is not installed (Debian: apt-get install chromium)');
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** Where screenshots of a test run are kept (test-artifacts/screenshots). */
export function screenshotPath(name: string): string {
  const dir = repoPath('test-artifacts/screenshots');
  mkdirSync(dir, { recursive: true });
  return `${dir}/${name}.png`;
}

/** What a page's Content-Security-Policy refused, and every error the page logged or threw. */
export interface PageProblems {
  readonly violations: string[];
  readonly errors: string[];
}

/** Start collecting `page`'s problems (call before its first `goto`). */
export async function watchPage(page: Page): Promise<PageProblems> {
  const problems: PageProblems = { violations: [], errors: [] };
  await page.exposeFunction('reportViolation', (v: string) => problems.violations.push(v));
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => reportViolation(e.violatedDirective + ' ' + e.blockedURI))",
  );
  page.on('console', (m) => {
    // The pages have no icon; the browser asks for one all the same.
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.errors.push(m.text());
  });
  page.on('pageerror', (e) => problems.errors.push(e.message));
  return problems;
}

/** A browser test's fixture: `pnpm start` in a DATA_DIR of its own, and a Chromium page watched for problems. */
export interface StoreInBrowser {
  readonly store: LaunchedStore;
  readonly page: Page;
  readonly problems: PageProblems;
  readonly dataDir: string;
  /** Close the browser, stop the store, remove its data. */
  close(): Promise<void>;
}

/** `env` is added to the test store's (launchTestStore), e.g. RESTOCK_DELAY_S for its supplier. */
export async function openStoreInBrowser(
  viewport: { width: number; height: number },
  env: Record<string, string> = {},
): Promise<StoreInBrowser> {
  const data = tempDir('ff-browser-');
  let browser: Browser | undefined;
  let store: LaunchedStore | undefined;
  const close = async () => {
    await browser?.close();
    await store?.stop();
    data.remove();
  };
  try {
    store = await launchTestStore(data.path, env);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport });
    const problems = await watchPage(page);
    return { store, page, problems, dataDir: data.path, close };
  } catch (err) {
    await close();
    throw err;
  }
}
