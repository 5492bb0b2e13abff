import { randomUUID } from 'node:crypto';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { measureLoad, type LoadResult } from '../measureLoad.ts';

// The federation benchmark's load generator, a process of its own (pinned to the core the subgraphs
// use, away from the target's): it runs one closed-loop measurement per message and answers with the
// result. Every request carries a header no other request has, so no gateway can answer two identical
// in-flight requests with one execution.

/** A measurement the benchmark asks for. */
export interface MeasureRequest {
  id: number;
  url: string;
  body: string;
  /** Sign the anonymous principal the router would (a gateway addressed directly answers nothing else). */
  signed: boolean;
  concurrency: number;
  durationMs: number;
}

export interface MeasureAnswer {
  id: number;
  result?: LoadResult;
  error?: string;
}

const secret = process.env.INTERNAL_SECRET ?? '';
const runId = randomUUID().slice(0, 8);
let sequence = 0;
// Signed once a second, not per request: the router's own signing is part of what (d) measures, and
// the load generator's CPU should go to sending. Tokens live 30 s.
let token = { value: '', at: 0 };
function principal(): string {
  const now = Date.now();
  if (now - token.at > 1_000) token = { value: signPrincipal({ scopes: [] }, secret, now), at: now };
  return token.value;
}

process.on('message', async (message: MeasureRequest) => {
  const answer: MeasureAnswer = { id: message.id };
  try {
    answer.result = await measureLoad({
      url: message.url,
      body: message.body,
      concurrency: message.concurrency,
      durationMs: message.durationMs,
      headers: () => ({ 'x-bench-request': `${runId}-${++sequence}`, ...(message.signed ? { [PRINCIPAL_HEADER]: principal() } : {}) }),
    });
  } catch (error) {
    answer.error = String(error);
  }
  process.send!(answer);
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
