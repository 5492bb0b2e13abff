import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import type { PlanName } from '../../../subgraphs/store/tables.ts';
import { countPromptTokens, splitTokens } from '../../../subgraphs/chat/chatTokens.ts';
import { fitContext } from '../../../subgraphs/chat/conversationContext.ts';
import { parseServerSentEvents } from '../../../subgraphs/chat/inference/parseServerSentEvents.ts';
import { chooseModel } from '../../../subgraphs/chat/modelRegistry.ts';

const CATALOG = [
  { id: 'm-small', name: 'Small', context_window: 8_192, is_default: 0 },
  { id: 'm-medium', name: 'Medium', context_window: 32_768, is_default: 1 },
  { id: 'm-large', name: 'Large', context_window: 131_072, is_default: 0 },
];

async function* pieces(...parts: Array<string | Uint8Array>) {
  for (const part of parts) yield part;
}

async function events(...parts: Array<string | Uint8Array>) {
  const out = [];
  for await (const event of parseServerSentEvents(pieces(...parts))) out.push(event);
  return out;
}

describe('parts of the chat flow', () => {
  it('splits text into tokens that join back to it exactly', () => {
    for (const text of ['Hello there, world.', '  leading and trailing  ', 'one', '', 'line\nbreaks\n']) {
      expect(splitTokens(text).join('')).toBe(text);
    }
    expect(splitTokens('Hello there, world.')).toEqual(['Hello', ' there,', ' world.']);
    expect(countPromptTokens([{ role: 'user', content: 'two words' }])).toBe(6);
  });

  it('parses server-sent events split anywhere, with CRLF, comments and multi-line data', async () => {
    const euro = new TextEncoder().encode('data: 5 €\n\n');
    expect(await events('data: {"a"', ':1}\n', '\ndata: [DONE]\n\n')).toEqual([{ data: '{"a":1}' }, { data: '[DONE]' }]);
    expect(await events(': ping\r\n\r\nevent: next\r\ndata: one\r\ndata: two\r', '\n\r\n')).toEqual([{ event: 'next', data: 'one\ntwo' }]);
    expect(await events(euro.slice(0, 9), euro.slice(9))).toEqual([{ data: '5 €' }]);
    // An event the stream never finished is not delivered.
    expect(await events('data: cut off')).toEqual([]);
  });

  it('chooses a model by plan and size, and refuses what the plan does not allow', () => {
    const choose = (plan: PlanName, neededTokens: number, requested?: string) => chooseModel(CATALOG, { plan, neededTokens, requested }).row.id;
    expect(choose('FREE', 100)).toBe('m-small');
    expect(choose('PRO', 100)).toBe('m-medium');
    expect(choose('PRO', 40_000)).toBe('m-large');
    expect(choose('PRO', 500_000)).toBe('m-large'); // nothing fits: the largest, with the context cut to fit
    expect(choose('FREE', 500_000)).toBe('m-small');
    expect(choose('PRO', 100, 'm-small')).toBe('m-small');
    expect(() => choose('FREE', 100, 'm-medium')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }));
    expect(() => choose('PRO', 100, 'm-nope')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
  });

  it('keeps the latest whole messages that fit the context window next to the prompt and the answer', () => {
    const history = Array.from({ length: 10 }, (_, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content: `message number ${i}` }));
    const all = fitContext(history, 'the prompt', { contextWindow: 10_000, reserveForAnswer: 100 });
    expect(all.messages).toHaveLength(11);
    expect(all.promptTokens).toBe(countPromptTokens(all.messages));
    // Each message costs 3 + 4 tokens; the prompt 2 + 4: room for exactly three earlier messages.
    const cut = fitContext(history, 'the prompt', { contextWindow: 100 + 6 + 3 * 7 + 6, reserveForAnswer: 100 });
    expect(cut.messages.map((m) => m.content)).toEqual(['message number 7', 'message number 8', 'message number 9', 'the prompt']);
  });

  it('reads the chat section of the config from the environment and names bad keys', () => {
    const config = loadConfig({ CHAT_TOKEN_INTERVAL_MS: '0', CHAT_BACKEND_URL: 'https://api.deepseek.com/v1', CHAT_BACKEND_API_KEY: 'sk-1', CHAT_LEASE_MS: '5000' });
    expect(config.chat).toMatchObject({ tokenIntervalMs: 0, backendUrl: 'https://api.deepseek.com/v1', backendApiKey: 'sk-1', leaseMs: 5_000, followPollMs: 100 });
    expect(loadConfig({}).chat).toMatchObject({ tokenIntervalMs: 20, leaseMs: 3_000 });
    expect(loadConfig({}).chat.backendUrl).toBeUndefined();
    expect(() => loadConfig({ CHAT_BACKEND_URL: 'not a url' })).toThrow(/chat\.backendUrl \(CHAT_BACKEND_URL\)/);
    expect(() => loadConfig({ CHAT_BACKEND_API_KEY: 'sk-1' })).toThrow(/chat\.backendUrl \(CHAT_BACKEND_URL\): required when CHAT_BACKEND_API_KEY is set/);
    expect(() => loadConfig({ CHAT_FOLLOW_POLL_MS: '500', CHAT_LEASE_MS: '300' })).toThrow(/chat\.followPollMs \(CHAT_FOLLOW_POLL_MS\)/);
  });
});
