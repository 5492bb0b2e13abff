import { setTimeout as sleep } from 'node:timers/promises';
import { splitTokens } from '../chatTokens.ts';
import { generateReply } from '../generateReply.ts';
import type { InferenceBackend, InferenceEvent, InferenceRequest } from './inferenceBackend.ts';

export interface LocalGeneratorOptions {
  /** Pause before each token, ms, as a model's decoding pace. @default 20 */
  tokenIntervalMs?: number;
  /** Waits `ms` or rejects when `signal` aborts; injected so tests can drive the pace. @default timers/promises setTimeout */
  wait?: (ms: number, signal: AbortSignal) => Promise<unknown>;
}

/**
 * The embedded inference backend: the deterministic reply of generateReply, streamed one token at a
 * time. Because the reply is a function of the request, continuing a partial answer is skipping the
 * tokens already written, so a resumed answer is the same text an unbroken one would have been.
 */
export class LocalGenerator implements InferenceBackend {
  readonly name = 'local';
  /** Tokens produced by this generator so far (its own state, which tests read to see it stop). */
  tokensProduced = 0;
  private readonly tokenIntervalMs: number;
  private readonly wait: (ms: number, signal: AbortSignal) => Promise<unknown>;

  constructor(options: LocalGeneratorOptions = {}) {
    this.tokenIntervalMs = options.tokenIntervalMs ?? 20;
    this.wait = options.wait ?? ((ms, signal) => sleep(ms, undefined, { signal }));
  }

  async *stream(request: InferenceRequest): AsyncIterable<InferenceEvent> {
    const prompt = request.messages.at(-1)?.content ?? '';
    const context = request.messages.slice(0, -1).map((m) => `${m.role}: ${m.content}`).join('\n');
    const reply = generateReply({ prompt, modelId: request.modelId, contextWindow: request.contextWindow, context });
    const tokens = splitTokens(reply);
    const start = request.partial ? splitTokens(request.partial).length : 0;
    const end = Math.min(tokens.length, start + request.maxTokens);
    for (let i = start; i < end; i++) {
      // Even at pace 0, give the event loop a turn so many streams share it fairly.
      await this.wait(this.tokenIntervalMs, request.signal);
      request.signal.throwIfAborted();
      this.tokensProduced += 1;
      yield { type: 'delta', text: tokens[i] };
    }
    yield { type: 'end', finishReason: end < tokens.length ? 'length' : 'stop' };
  }
}
