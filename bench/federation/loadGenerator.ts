import { randomUUID } from 'node:crypto';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { measureAlternating, type AlternatingResult } from '../measureAlternating.ts';
import { measureLoad, type LoadResult } from '../measureLoad.ts';

// The federation benchmark's load generator, a process of its own (pinned to the core the subgraphs
// use, away from the target's): it runs one measurement per message and answers with the result.
// Every request carries a header no other request has, so no gateway can answer two identical
// in-flight requests with one execution.

/** Where requests go. */
export interface LoadTargetSpec {
  url: string;
  body: string;
  /** Sign the anonymous principal the router would (a gateway addressed directly answers nothing else). */
  signed: boolean;
}

/** Closed-loop load on one target. */
export interface MeasureRequest extends LoadTargetSpec {
  id: number;
  kind?: 'load';
  concurrency: number;
  durationMs: number;
}

/** One request in flight, the targets taking turns (bench/measureAlternating.ts). */
export interface AlternateRequest {
  id: number;
  kind: 'alternate';
  targets: Record<string, LoadTargetSpec>;
  durationMs: number;
}

export interface MeasureAnswer {
  id: number;
  result?: LoadResult;
  alternating?: Record<string, AlternatingResult>;
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
const headersFor = (signed: boolean) => () => ({ 'x-bench-request': `${runId}-${++sequence}`, ...(signed ? { [PRINCIPAL_HEADER]: principal() } : {}) });

process.on('message', async (message: MeasureRequest | AlternateRequest) => {
  const answer: MeasureAnswer = { id: message.id };
  try {
    if (message.kind === 'alternate') {
      const scenarios = Object.fromEntries(Object.entries(message.targets).map(([key, t]) => [key, { url: t.url, body: t.body, headers: headersFor(t.signed) }]));
      answer.alternating = await measureAlternating(scenarios, { durationMs: message.durationMs });
    } else {
      answer.result = await measureLoad({
        url: message.url,
        body: message.body,
        concurrency: message.concurrency,
        durationMs: message.durationMs,
        headers: headersFor(message.signed),
      });
    }
  } catch (error) {
    answer.error = String(error);
  }
  process.send!(answer);
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
