import { createHash } from 'node:crypto';

const OPENERS = ['Good question.', 'Let me think about that.', 'Here is a short answer.', 'Happy to help.'];
const SUBJECTS = ['The key idea', 'A practical approach', 'The simplest option', 'One useful angle', 'The usual trade-off'];
const VERBS = ['is to', 'would be to', 'often means you', 'suggests you'];
const ACTIONS = [
  'start small and measure before optimising',
  'split the problem into independent parts',
  'write down the constraints first',
  'compare two options side by side',
  'check the assumptions against real data',
  'keep the interface narrow and the details private',
];

/** Up to the first `count` words of a prompt, to quote it back and to title conversations. */
export function firstWords(text: string, count: number, maxLength = 60): string {
  const words = text.trim().split(/\s+/).slice(0, count).join(' ');
  return words.length > maxLength ? `${words.slice(0, maxLength - 1)}…` : words;
}

/**
 * The local stand-in for model inference: a reply derived from a hash of model, prompt and earlier
 * conversation, so the same question in the same context to the same model always gets the same
 * answer (tests, caches and resumed streams rely on that). Larger models say more.
 */
export function generateReply(options: { prompt: string; modelId: string; contextWindow: number; context?: string }): string {
  const context = options.context ? `\n${options.context}` : '';
  const digest = createHash('sha256').update(`${options.modelId}\n${options.prompt}${context}`).digest();
  let next = 0;
  const pick = <T>(items: readonly T[]): T => items[digest[next++ % digest.length] % items.length];
  const sentences = options.contextWindow >= 100_000 ? 3 : options.contextWindow >= 16_000 ? 2 : 1;
  const parts = [`${pick(OPENERS)} You asked about "${firstWords(options.prompt, 8)}".`];
  for (let i = 0; i < sentences; i++) parts.push(`${pick(SUBJECTS)} ${pick(VERBS)} ${pick(ACTIONS)}.`);
  return parts.join(' ');
}
