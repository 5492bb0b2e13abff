import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers the next requests. */
export type FakeBackendBehaviour =
  | { kind: 'answer'; tokens: string[]; usage?: { prompt_tokens: number; completion_tokens: number } }
  | { kind: 'break'; tokens: string[] }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'endless'; intervalMs: number };

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export interface FakeChatBackend {
  /** Base URL to configure as CHAT_BACKEND_URL (ends in /v1). */
  url: string;
  requests: RecordedRequest[];
  behaviour: FakeBackendBehaviour;
  /** Streaming responses whose client went away before the stream ended. */
  abandoned: number;
  /** Content tokens written so far, over all responses. */
  tokensWritten: number;
  close(): Promise<void>;
}

const line = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
const delta = (content: string) => line({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] });

/**
 * A local HTTP server speaking the OpenAI chat-completions streaming protocol (`data:` chunks with
 * `choices[0].delta.content`, a finish chunk, a usage chunk, `[DONE]`), with switchable faults.
 * Writes are split mid-line now and then, as TCP may deliver them.
 */
export async function startFakeChatBackend(): Promise<FakeChatBackend> {
  const fake: FakeChatBackend = {
    url: '',
    requests: [],
    behaviour: { kind: 'answer', tokens: ['Hello'] },
    abandoned: 0,
    tokensWritten: 0,
    close: async () => undefined,
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    let raw = '';
    for await (const piece of req) raw += piece;
    fake.requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) });
    const behaviour = fake.behaviour;
    if (behaviour.kind === 'status') {
      res.writeHead(behaviour.status, { 'content-type': 'application/json', ...behaviour.headers });
      res.end(JSON.stringify({ error: { message: 'internal detail that must not reach clients', type: 'server_error' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let open = true;
    res.on('close', () => {
      if (!res.writableEnded) fake.abandoned += 1;
      open = false;
    });
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    if (behaviour.kind === 'endless') {
      while (open) {
        res.write(delta(' more'));
        fake.tokensWritten += 1;
        await pause(behaviour.intervalMs);
      }
      return;
    }
    for (const [i, token] of behaviour.tokens.entries()) {
      const text = delta(token);
      if (i % 2 === 1) {
        // Half a line now, the rest a moment later.
        res.write(text.slice(0, 7));
        await pause(2);
        res.write(text.slice(7));
      } else res.write(text);
      fake.tokensWritten += 1;
      await pause(3);
    }
    if (behaviour.kind === 'break') {
      res.socket?.destroy();
      return;
    }
    res.write(line({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
    if (behaviour.usage) res.write(line({ id: 'c1', object: 'chat.completion.chunk', choices: [], usage: { ...behaviour.usage, total_tokens: behaviour.usage.prompt_tokens + behaviour.usage.completion_tokens } }));
    res.end('data: [DONE]\n\n');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
