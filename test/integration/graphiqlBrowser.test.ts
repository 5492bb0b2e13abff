import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOfflineChromium, type OfflineChromium } from '../support/offlineChromium.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// A newcomer's first five minutes, in a real browser with the network cut off: the whole stack as
// processes, Debian's Chromium driven by playwright-core, every request that is not for loopback
// refused and recorded. GraphiQL must load, show the demo key and tabs, and run the preloaded query.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The README's screenshot is rewritten only on request, so a test run leaves the work tree clean. */
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs', 'graphiql.png') : undefined;

let stack: TestStack;
let browser: OfflineChromium;
let page: Page;

beforeAll(async () => {
  stack = await startTestStack();
  browser = await openOfflineChromium({ profilePrefix: 'graphiql-chromium-', viewport: { width: 1400, height: 900 } });
  page = browser.page;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
});

/** What the result pane shows, with Monaco's non-breaking spaces made plain. */
async function resultText(): Promise<string> {
  return (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');
}

/**
 * Clicks a tab as a person would (one real click at a time) until it is the active one: on a busy
 * machine GraphiQL may still be rendering the last answer (a stream) and let a click pass.
 */
async function selectTab(title: string): Promise<void> {
  const active = () => page.locator('.graphiql-tab[aria-selected="true"]').innerText();
  for (let attempt = 0; attempt < 5 && (await active()) !== title; attempt++) {
    await page.locator('.graphiql-tab-button', { hasText: title }).click();
    for (const started = Date.now(); Date.now() - started < 3_000 && (await active()) !== title; ) await page.waitForTimeout(100);
  }
  expect(await active()).toBe(title);
}

/**
 * Clicks the run button until GraphiQL sends `operationName`, and returns that request. Right after
 * a tab switch GraphiQL needs a moment before the button runs the new tab (no person is that fast),
 * so a click that sent nothing is repeated; a click never sends twice.
 */
async function clickRun(operationName: string): Promise<Request> {
  const isIt = (request: Request) => request.method() === 'POST' && request.postDataJSON()?.operationName === operationName;
  for (let attempt = 0; attempt < 10; attempt++) {
    const sent = page.waitForRequest(isIt, { timeout: 2_000 }).catch(() => undefined);
    await page.locator('.graphiql-execute-button').click();
    const request = await sent;
    if (request) return request;
  }
  throw new Error(`GraphiQL did not send ${operationName}`);
}

/** Runs the active tab's operation and returns the router's JSON answer. */
async function run(operationName: string): Promise<Record<string, any>> {
  const response = await (await clickRun(operationName)).response();
  return response!.json();
}

describe('GraphiQL in a browser without internet access', () => {
  it('opens from the chat page at `/` with the demo key and example tabs, runs the cross-supergraph query and shows its result', async () => {
    const origin = new URL('/', stack.routerUrl).href;
    await page.goto(origin);
    await page.locator('#graphiql-link').click();
    await page.waitForURL((url) => url.pathname === '/graphql');
    await expect(page.title()).resolves.toBe('Supergraph router');

    const tabs = page.locator('.graphiql-tab-button');
    await tabs.nth(3).waitFor({ timeout: 30_000 });
    expect(await tabs.allInnerTexts()).toEqual(['AcrossSupergraphs', 'PlaceOrder', 'Fallback', 'ChatStream']);
    // The router process got DEMO_API_KEY from the stack and hands it to GraphiQL's headers tab.
    await page.getByText(`"Bearer ${DEMO_KEY}"`).first().waitFor({ timeout: 10_000 });

    const answer = await run('AcrossSupergraphs');
    expect(answer.errors).toBeUndefined();
    expect(answer.data.me).toMatchObject({ id: 'u1', name: expect.any(String) }); // identity supergraph
    expect(answer.data.articles.edges).toHaveLength(3); // commerce supergraph
    expect(answer.data.myOrders.edges.length).toBeGreaterThan(0); // commerce, for the key's user
    // The result pane shows it: the user's name from identity and an article title from commerce.
    await expect.poll(resultText, { timeout: 10_000 }).toContain(`"name": "${answer.data.me.name}"`);
    const shown = await resultText();
    expect(shown).toContain(`"title": "${answer.data.articles.edges[0].node.title}"`);
    expect(shown).toContain('"plan": ');
    expect(shown).toContain('"totalCount": ');

    const png = await page.screenshot({ path: SCREENSHOT && (mkdirSync(join(ROOT, 'docs'), { recursive: true }), SCREENSHOT) });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    if (SCREENSHOT) expect(readFileSync(SCREENSHOT).equals(png)).toBe(true);

    expect(await browser.cspViolations()).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    expect(browser.consoleErrors).toEqual([]);
    expect(browser.offMachine).toEqual([]);
  }, 90_000);

  it('speaks GraphQL over SSE to /graphql for the chatStream tab', async () => {
    await selectTab('ChatStream');
    const request = await clickRun('ChatStream');
    expect(new URL(request.url()).pathname).toBe('/graphql');
    // The headers the page gave fetch (headerValue() would wait for the network's raw headers,
    // which a stream GraphiQL cancels may never report).
    expect(request.headers().accept).toMatch(/text\/event-stream/);
    expect(request.headers().authorization).toBe(`Bearer ${DEMO_KEY}`);
    expect(browser.offMachine).toEqual([]);
  }, 60_000);

  it('shows the fallback in errors[].extensions once both orders replicas are killed, as its tab says', async () => {
    await selectTab('Fallback');
    await Promise.all([stack.kill('orders-0'), stack.kill('orders-1')]);
    const answer = await run('Fallback');
    expect(answer.data.me).toMatchObject({ id: 'u1' });
    expect(answer.errors).toEqual([
      expect.objectContaining({
        path: ['myOrders'],
        extensions: expect.objectContaining({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'orders', fallback: expect.objectContaining({ source: 'degraded' }) }),
      }),
    ]);
    // The answer is taller than the pane and Monaco renders only the lines in view: scroll to its end first.
    const endOfResult = async () => {
      await page.locator('.graphiql-response').click();
      await page.keyboard.press('Control+End');
      return resultText();
    };
    await expect.poll(endOfResult, { timeout: 10_000 }).toContain('"source": "degraded"');
    expect(browser.offMachine).toEqual([]);
  }, 60_000);
});
