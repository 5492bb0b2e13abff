import { countPromptTokens, type PromptMessage } from './chatTokens.ts';

/**
 * What the model is asked: the latest earlier messages of the conversation that fit the model's
 * context window next to the prompt and room for the answer, oldest first, then the prompt. Older
 * messages are dropped whole, never cut, so the model never sees half a message.
 */
export function fitContext(
  history: readonly PromptMessage[],
  prompt: string,
  window: { contextWindow: number; reserveForAnswer: number },
): { messages: PromptMessage[]; promptTokens: number } {
  const question: PromptMessage = { role: 'user', content: prompt };
  let budget = window.contextWindow - window.reserveForAnswer - countPromptTokens([question]);
  const kept: PromptMessage[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const cost = countPromptTokens([history[i]]);
    if (cost > budget) break;
    budget -= cost;
    kept.unshift(history[i]);
  }
  const messages = [...kept, question];
  return { messages, promptTokens: countPromptTokens(messages) };
}
