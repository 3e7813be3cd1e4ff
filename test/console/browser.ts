import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; CI installs it with apt (`.ci/run`). */
export const CHROMIUM = process.env.ARCA_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), 'test-results', 'console');

/**
 * Launches Chromium headless. A launch that fails throws, naming the binary: the console's tests
 * never skip themselves.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  } catch (error) {
    throw new Error(
      `Chromium could not be launched from ${CHROMIUM} (install Debian's chromium package): ${String(error)}`,
    );
  }
}

/** Writes a full-page screenshot under test-results/console/ for review. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
