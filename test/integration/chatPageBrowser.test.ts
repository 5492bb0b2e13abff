import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, postGraphQL } from '../support/graphqlClient.ts';
import { openOfflineChromium, type OfflineChromium } from '../support/offlineChromium.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// The chat page at `/` in Debian's Chromium, with the network cut off as in graphiqlBrowser.test.ts:
// a bad key, then a real conversation streamed token by token, a chat replica SIGKILLed in the
// middle of an answer, the router itself killed under the page (it resumes with Last-Event-ID),
// and the operator panel. The whole stack runs as processes.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The README's screenshot is rewritten only on request, so a test run leaves the work tree clean. */
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs', 'chat-page.png') : undefined;

let stack: TestStack;
let browser: OfflineChromium;
let page: Page;

beforeAll(async () => {
  // Slow enough tokens that the page visibly grows an answer, and short leases so a dead replica's answer moves on quickly.
  stack = await startTestStack({ env: { CHAT_TOKEN_INTERVAL_MS: '25', CHAT_LEASE_MS: '600' } });
  browser = await openOfflineChromium({ profilePrefix: 'chat-page-chromium-', viewport: { width: 1300, height: 820 } });
  page = browser.page;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
});

/** The last assistant bubble's text as it grows: every distinct length the DOM showed, in order. */
async function watchLastAnswer(): Promise<void> {
  await page.evaluate(() => {
    const lengths: number[] = ((window as unknown as { answerLengths: number[] }).answerLengths = []);
    new MutationObserver(() => {
      const text = document.querySelector('.message.assistant:last-of-type .text')?.textContent ?? '';
      if (text.length !== lengths.at(-1)) lengths.push(text.length);
    }).observe(document.getElementById('messages')!, { subtree: true, childList: true, characterData: true });
  });
}

const answerLengths = () => page.evaluate(() => (window as unknown as { answerLengths: number[] }).answerLengths);
const lastAnswer = () => page.locator('.message.assistant').last();

async function send(prompt: string): Promise<void> {
  await page.fill('#prompt', prompt);
  await page.press('#prompt', 'Enter');
}

/** What the store holds for the newest assistant message of the demo user: the oracle for what the page shows. */
async function storedAnswers(): Promise<Array<{ content: string; conversation_id: string }>> {
  const store = await stack.database.open();
  try {
    return await store.db.selectFrom('messages').innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
      .select(['messages.content', 'messages.conversation_id']).where('conversations.user_id', '=', 'u1').where('messages.role', '=', 'ASSISTANT')
      .where('conversations.id', '!=', 'c1').orderBy('messages.created_at').orderBy('messages.position').execute();
  } finally {
    await store.close();
  }
}

describe('the chat page in a browser without internet access', () => {
  it('says clearly when an API key is refused', async () => {
    await page.goto(new URL('/', stack.routerUrl).href);
    await expect(page.title()).resolves.toBe('Supergraph chat');
    await page.fill('#api-key', 'sgk_not-a-key-anyone-issued');
    await page.click('#sign-in-button');
    await expect.poll(() => page.locator('#sign-in-error').textContent(), { timeout: 10_000 }).toMatch(/API key was not accepted/);
    expect(await page.locator('#chat').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // The browser logs the refused request itself (401); nothing else went wrong.
    expect(browser.consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    browser.consoleErrors.length = 0;
  }, 60_000);

  it('signs in, streams an answer token by token, continues the conversation, and shows quota and usage', async () => {
    await page.fill('#api-key', DEMO_KEY);
    await page.click('#sign-in-button');
    await page.locator('#chat').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.locator('#model option').allTextContents()).toEqual(['Chosen for me', expect.stringMatching(/^Small/), expect.stringMatching(/^Medium/), expect.stringMatching(/^Large/)]);

    await watchLastAnswer();
    await send('How does a router split one operation across two supergraphs?');
    await page.locator('.message.assistant.done').first().waitFor({ timeout: 30_000 });
    const lengths = await answerLengths();
    const first = (await storedAnswers()).at(-1)!;
    expect(await lastAnswer().locator('.text').textContent()).toBe(first.content);
    // Token by token: the text grew through many intermediate lengths, never shrinking.
    expect(lengths.length).toBeGreaterThan(10);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(lengths.at(-1)).toBe(first.content.length);

    await send('And what happens when a replica dies?');
    await page.locator('.message.assistant.done').nth(1).waitFor({ timeout: 30_000 });
    const answers = await storedAnswers();
    expect(answers.at(-1)!.conversation_id).toBe(first.conversation_id); // the same conversation, continued
    expect(await page.locator('#conversation').textContent()).toContain(first.conversation_id.slice(0, 13));

    const { data } = (await postGraphQL(stack.routerUrl, { query: '{ me { quota { used } } myChatUsage { messages } }' }, bearer(DEMO_KEY))).body;
    await expect.poll(() => page.locator('#quota-used').textContent(), { timeout: 10_000 }).toBe(data!.me.quota.used.toLocaleString('en-US'));
    await expect.poll(() => page.locator('#usage-messages').textContent()).toBe(String(data!.myChatUsage.messages));
  }, 90_000);

  it('keeps streaming when the chat replica writing the answer is killed mid-answer', async () => {
    await page.click('#new-conversation');
    await page.selectOption('#model', 'm-large');
    await send('Write a long answer about leases, chunk logs and failover, please.');
    await expect.poll(async () => Number(await lastAnswer().getAttribute('data-chunks') ?? 0), { timeout: 15_000 }).toBeGreaterThanOrEqual(5);
    // The replica holding the answer's lease is the one writing it.
    const store = await stack.database.open();
    let owner: string | null | undefined;
    try {
      owner = (await store.db.selectFrom('chat_generations').select('lease_owner').where('state', '=', 'running').where('user_id', '=', 'u1').executeTakeFirst())?.lease_owner;
    } finally {
      await store.close();
    }
    const pid = Number(owner?.split(':')[1]);
    const writer = stack.components.find((c) => c.pid === pid && c.name.startsWith('chat-'));
    expect(writer, `lease owner ${owner}`).toBeDefined();
    const shownBeforeKill = Number(await lastAnswer().getAttribute('data-chunks'));
    await stack.kill(writer!.name);
    try {
      // "New conversation" cleared the list: this answer is the only one shown.
      await page.locator('.message.assistant.done').first().waitFor({ timeout: 30_000 });
      expect(Number(await lastAnswer().getAttribute('data-chunks'))).toBeGreaterThan(shownBeforeKill);
      expect(await page.locator('#chat-error').isHidden()).toBe(true);
      expect(await lastAnswer().getAttribute('class')).not.toContain('failed');
      // No chunk lost or repeated: the page shows exactly the answer the twin stored.
      expect(await lastAnswer().locator('.text').textContent()).toBe((await storedAnswers()).at(-1)!.content);
    } finally {
      await stack.restart(writer!.name);
    }
  }, 90_000);

  it('resumes the answer with Last-Event-ID when its connection to the router drops', async () => {
    const resumedFrom: string[] = [];
    const onRequest = (request: import('playwright-core').Request) => {
      const id = request.headers()['last-event-id'];
      if (id) resumedFrom.push(id);
    };
    page.on('request', onRequest);
    try {
      await page.click('#new-conversation');
      await send('Another long answer, about reconnecting streams, please.');
      await expect.poll(async () => Number(await lastAnswer().getAttribute('data-chunks') ?? 0), { timeout: 15_000 }).toBeGreaterThanOrEqual(5);
      await stack.kill('router'); // the page's stream is cut; the answer goes on at the chat replica
      await stack.restart('router');
      await page.locator('.message.assistant.done').first().waitFor({ timeout: 30_000 });
      expect(resumedFrom.length).toBeGreaterThan(0);
      expect(resumedFrom[0]).toMatch(/^msg_[\w-]+:\d+$/);
      expect(await page.locator('#chat-error').isHidden()).toBe(true);
      expect(await lastAnswer().locator('.text').textContent()).toBe((await storedAnswers()).at(-1)!.content);
    } finally {
      page.off('request', onRequest);
    }
    // The requests cut by the kill are the browser's to report; the page itself raised nothing.
    browser.consoleErrors.splice(0, browser.consoleErrors.length, ...browser.consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|Failed to load resource/.test(e)));
  }, 90_000);

  it('shows gateway instances, breakers and fallbacks by name, from a view that holds no URL', async () => {
    await expect.poll(() => page.locator('#ops [data-supergraph]').count(), { timeout: 10_000 }).toBe(2);
    const panel = await page.locator('#ops').innerText();
    expect(panel).toMatch(/identity-0 · up/);
    expect(panel).toMatch(/commerce-0 · up/);
    expect(panel).toMatch(/breaker closed/);
    expect(panel).toMatch(/Failures answered: \d+ from cache/);
    const state = await page.evaluate(async () => (await fetch('/ops/state')).text());
    expect(state).not.toMatch(/https?:|127\.0\.0\.1|:\d{4,5}\b/);
    const proxied = await fetch(new URL('/ops/state', stack.routerUrl), { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(404);

    const png = await page.screenshot({ path: SCREENSHOT && (mkdirSync(join(ROOT, 'docs'), { recursive: true }), SCREENSHOT) });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    if (SCREENSHOT) expect(readFileSync(SCREENSHOT).equals(png)).toBe(true);

    expect(await browser.cspViolations()).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    expect(browser.consoleErrors).toEqual([]);
    expect(browser.offMachine).toEqual([]);
  }, 60_000);
});
