import type { PromptMessage } from '../chatTokens.ts';

/** What one generation asks of a model. */
export interface InferenceRequest {
  /** Catalog id of the model (m-small, …). */
  modelId: string;
  contextWindow: number;
  /** Context and prompt, the prompt last. */
  messages: readonly PromptMessage[];
  /** Most tokens to write in this call. */
  maxTokens: number;
  /** Text of the answer written so far by an earlier attempt: continue it, do not repeat it. */
  partial?: string;
  /** Aborted when nobody listens any more; the backend must stop working then. */
  signal: AbortSignal;
}

/** Token counts as a backend reports them. */
export interface BackendUsage {
  promptTokens: number;
  completionTokens: number;
}

/** One step of a streamed answer: more text, or the end with why it ended. */
export type InferenceEvent =
  | { type: 'delta'; text: string }
  | { type: 'end'; finishReason: string; usage?: BackendUsage };

/**
 * Step 9 of the chat flow, pluggable: anything that streams an answer. It ends with exactly one
 * `end` event, or throws a GraphQLError (from lib/errors.ts) when it fails.
 */
export interface InferenceBackend {
  /** Names the backend in logs and errors, e.g. "local" or "chat-backend". */
  readonly name: string;
  stream(request: InferenceRequest): AsyncIterable<InferenceEvent>;
}
