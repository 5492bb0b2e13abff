/** A message as a model sees it. */
export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Tokens every message costs besides its text (role markers), as OpenAI-style models count. */
const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * Splits text into word-sized tokens, each with the whitespace before it, so joining them gives the
 * text back exactly. It stands in for a model tokenizer: the local generator streams these, and
 * prompt sizes are estimated with them when a backend does not report its own counts.
 */
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Estimated tokens of a list of messages. */
export function countPromptTokens(messages: readonly PromptMessage[]): number {
  let total = 0;
  for (const message of messages) total += splitTokens(message.content).length + MESSAGE_OVERHEAD_TOKENS;
  return total;
}
