import { request, type Dispatcher } from 'undici';
import type { GraphQLError } from 'graphql';
import { externalServiceError, externalServiceRateLimited, type FailureReason } from '../../../lib/errors.ts';
import type { Logger } from 'pino';
import type { BackendUsage, InferenceBackend, InferenceEvent, InferenceRequest } from './inferenceBackend.ts';
import { parseServerSentEvents } from './parseServerSentEvents.ts';
import { readWhatArrived } from './readWhatArrived.ts';

export interface OpenAiCompatibleBackendOptions {
  /** Base URL, e.g. https://api.deepseek.com/v1; `/chat/completions` is appended. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Model name sent for every catalog model. @default the catalog id */
  model?: string;
  /** Deadline for the response headers, ms. @default 30000 */
  timeoutMs?: number;
  /** Longest silence between two body chunks, ms. @default 30000 */
  idleTimeoutMs?: number;
  /** undici dispatcher (connection pool); the global one when absent. */
  dispatcher?: Dispatcher;
  logger?: Logger;
}

/** Name the backend goes by in errors: never its URL. */
const SERVICE = 'chat-backend';

/** Asked after the partial answer, so any chat model continues instead of starting over. */
const CONTINUE_INSTRUCTION = 'Continue your previous answer exactly where it stopped. Do not repeat any of it.';

interface CompletionChunk {
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

/** Milliseconds of a Retry-After header (seconds or an HTTP date), if it says. */
function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The reason a transport failure counts as, from undici's error codes. */
function transportReason(error: unknown): FailureReason {
  const code = (error as { code?: string } | null)?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  return 'network';
}

/**
 * Any OpenAI-compatible chat API (OpenAI, DeepSeek, vLLM, Ollama, llama.cpp) as the inference step:
 * `POST {baseUrl}/chat/completions` with `stream: true`, its SSE `data:` chunks turned into deltas.
 * A partial answer is continued by sending it back as the assistant's turn with an instruction to go
 * on, which every chat model understands (vendor-specific prefill flags are not portable).
 * Failures become GraphQL errors: 429 → RATE_LIMITED with retryAfterMs, other statuses and transport
 * failures → DOWNSTREAM_SERVICE_ERROR (GATEWAY_TIMEOUT for timeouts), and a stream that ends without
 * `[DONE]` or a finish reason → DOWNSTREAM_SERVICE_ERROR with reason `network`.
 */
export class OpenAiCompatibleBackend implements InferenceBackend {
  readonly name = SERVICE;
  private readonly url: string;

  constructor(private readonly options: OpenAiCompatibleBackendOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  async *stream(inference: InferenceRequest): AsyncIterable<InferenceEvent> {
    const { signal } = inference;
    const messages = inference.partial
      ? [...inference.messages, { role: 'assistant', content: inference.partial }, { role: 'user', content: CONTINUE_INSTRUCTION }]
      : inference.messages;
    const body = JSON.stringify({
      model: this.options.model ?? inference.modelId,
      messages,
      max_tokens: inference.maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    });
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body,
        signal,
        headersTimeout: this.options.timeoutMs ?? 30_000,
        bodyTimeout: this.options.idleTimeoutMs ?? 30_000,
        dispatcher: this.options.dispatcher,
      });
    } catch (error) {
      signal.throwIfAborted();
      throw this.fail(transportReason(error), error);
    }
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined);
      if (response.statusCode === 429) throw externalServiceRateLimited(SERVICE, retryAfterMs(response.headers['retry-after']));
      throw this.fail(response.statusCode >= 500 ? 'http_5xx' : 'http_4xx', new Error(`HTTP ${response.statusCode}`));
    }

    let finishReason: string | undefined;
    let usage: BackendUsage | undefined;
    let sawDone = false;
    try {
      for await (const event of parseServerSentEvents(readWhatArrived(response.body))) {
        if (event.data === '[DONE]') {
          sawDone = true;
          break;
        }
        let chunk: CompletionChunk;
        try {
          chunk = JSON.parse(event.data) as CompletionChunk;
        } catch (error) {
          throw this.fail('bad_response', error);
        }
        const choice = chunk.choices?.[0];
        const text = choice?.delta?.content;
        if (text) yield { type: 'delta', text };
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (chunk.usage?.prompt_tokens != null && chunk.usage.completion_tokens != null) {
          usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        }
      }
    } catch (error) {
      signal.throwIfAborted();
      if ((error as GraphQLError).extensions?.code) throw error;
      throw this.fail(transportReason(error), error);
    } finally {
      // Stops the body (and frees the connection) when the caller stops early, e.g. nobody listens.
      if (!response.body.destroyed) response.body.destroy();
    }
    if (!sawDone && !finishReason) throw this.fail('network', new Error('stream ended without [DONE]'));
    yield { type: 'end', finishReason: finishReason ?? 'stop', usage };
  }

  private fail(reason: FailureReason, cause: unknown): GraphQLError {
    this.options.logger?.warn({ err: cause, reason }, 'chat backend failed');
    return externalServiceError(SERVICE, reason);
  }
}
