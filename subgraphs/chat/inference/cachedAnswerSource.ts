import { splitTokens } from '../chatTokens.ts';
import type { InferenceBackend, InferenceEvent, InferenceRequest } from './inferenceBackend.ts';

/**
 * A prompt-cache hit as an inference source: the cached text, token by token, at once. Going
 * through the same path as a generated answer means a cached answer is logged, resumable and
 * charged exactly like any other.
 */
export class CachedAnswerSource implements InferenceBackend {
  readonly name = 'prompt-cache';

  constructor(private readonly content: string) {}

  async *stream(request: InferenceRequest): AsyncIterable<InferenceEvent> {
    const tokens = splitTokens(this.content);
    const start = request.partial ? splitTokens(request.partial).length : 0;
    const end = Math.min(tokens.length, start + request.maxTokens);
    for (let i = start; i < end; i++) {
      request.signal.throwIfAborted();
      yield { type: 'delta', text: tokens[i] };
    }
    yield { type: 'end', finishReason: end < tokens.length ? 'length' : 'stop' };
  }
}
