import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, which .ci/run installs when it is absent. */
export const CHROMIUM = '/usr/bin/chromium';

/** A browser cut off from everything but this machine, and what it tried to do about it. */
export interface OfflineChromium {
  context: BrowserContext;
  page: Page;
  /** Requests for anything but loopback, from anywhere in the browser (workers included); each was refused. */
  offMachine: string[];
  pageErrors: string[];
  consoleErrors: string[];
  /** Content-Security-Policy violations the page reported. */
  cspViolations(): Promise<string[]>;
  close(): Promise<void>;
}

function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:') return true; // never leave the page
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/**
 * Headless Chromium driven by playwright-core, with the network cut off: no name resolves but
 * loopback's, and the page's route refuses (and records) every request that is not for loopback.
 * Page errors, console errors and CSP violations are collected for the test to assert on.
 */
export async function openOfflineChromium(options: { profilePrefix: string; viewport: { width: number; height: number } }): Promise<OfflineChromium> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's package (apt-get install -y chromium); .ci/run does it when it is absent`);
  }
  const profileDir = mkdtempSync(join(tmpdir(), options.profilePrefix));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Belt and braces under the route below: no name resolves, so nothing could leave even unseen.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
    viewport: options.viewport,
  });
  const [offMachine, pageErrors, consoleErrors]: string[][] = [[], [], []];
  context.on('request', (request) => {
    if (!isLoopback(request.url())) offMachine.push(`${request.method()} ${request.url()}`);
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.route('**', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    offMachine.push(`${route.request().method()} ${url} (blocked)`);
    return route.abort('blockedbyclient');
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  // Any CSP violation would mean the page wanted something our policy does not allow.
  await page.addInitScript(() => {
    const seen: string[] = ((window as unknown as { cspViolations: string[] }).cspViolations = []);
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  return {
    context,
    page,
    offMachine,
    pageErrors,
    consoleErrors,
    cspViolations: () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
    async close() {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
