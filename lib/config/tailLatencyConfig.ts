import { z } from 'zod';
import type { TailLatencyOptions } from '../upstream/tailLatencyPolicy.ts';

/**
 * The tail-latency section of the config (`resilience.tailLatency`): hedged queries and adaptive
 * attempt deadlines for every upstream, subgraph replicas at the gateways and gateway instances at
 * the router. Its own file so the section reads in one place; configSchema.ts mounts it.
 */

/** "true"/"false"/"1"/"0" from the environment; z.coerce.boolean would read "false" as true. */
const flag = z.preprocess((value) => {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
}, z.boolean());
const ms = z.coerce.number().int().positive();
const percentile = z.coerce.number().min(50).max(99.9);

export const tailLatencyConfigSchema = z
  .object({
    /** Hedged queries: a second attempt on another replica when the first is slow; the first answer wins. @default true */
    hedgeEnabled: flag.default(true),
    /** Percentile of the upstream's recent latency after which a query is hedged. @default 95 */
    hedgePercentile: percentile.default(95),
    /** Shortest hedge delay. @default 10 */
    hedgeMinDelayMs: ms.default(10),
    /** Longest hedge delay, however slow the upstream has been. @default 250 */
    hedgeMaxDelayMs: ms.default(250),
    /** Attempt deadlines that follow the upstream's latency (queries only), within the floor and the fixed timeout. @default true */
    adaptiveDeadlineEnabled: flag.default(true),
    /** Percentile of recent latency the adaptive deadline multiplies. @default 99 */
    adaptiveDeadlinePercentile: percentile.default(99),
    /** @default 3 */
    adaptiveDeadlineMultiplier: z.coerce.number().min(1).default(3),
    /** Shortest adaptive deadline of a subgraph call: legitimately slow operations, and a busy machine's stalls, must still fit. @default 500 */
    adaptiveDeadlineFloorMs: ms.default(500),
    /**
     * Shortest adaptive deadline of a gateway call at the router. A gateway answers a hung subgraph
     * from its fallback only after that subgraph's deadline and hedge, so this stays well above them.
     * @default 1000
     */
    gatewayAdaptiveDeadlineFloorMs: ms.default(1_000),
    /** Recent answers each upstream keeps for its percentiles. @default 256 */
    latencyWindowSamples: z.coerce.number().int().min(10).default(256),
    /** Answers older than this no longer count. @default 30000 */
    latencyWindowMs: ms.default(30_000),
    /** Recent answers needed before hedging or adapting at all. @default 20 */
    latencyMinSamples: z.coerce.number().int().min(1).default(20),
  })
  .superRefine((tail, ctx) => {
    if (tail.hedgeMinDelayMs > tail.hedgeMaxDelayMs) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['hedgeMinDelayMs'],
        message: `${tail.hedgeMinDelayMs} ms is above hedgeMaxDelayMs (${tail.hedgeMaxDelayMs} ms)`,
      });
    }
    if (tail.gatewayAdaptiveDeadlineFloorMs < tail.adaptiveDeadlineFloorMs + tail.hedgeMaxDelayMs) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['gatewayAdaptiveDeadlineFloorMs'],
        message: `must leave a gateway time for one subgraph deadline and hedge (adaptiveDeadlineFloorMs + hedgeMaxDelayMs = ${tail.adaptiveDeadlineFloorMs + tail.hedgeMaxDelayMs} ms), or the router gives up on gateways that are about to answer from their fallback`,
      });
    }
    if (tail.latencyMinSamples > tail.latencyWindowSamples) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['latencyMinSamples'], message: `must not exceed latencyWindowSamples (${tail.latencyWindowSamples})` });
    }
  });

export type TailLatencyConfig = z.infer<typeof tailLatencyConfigSchema>;

/** Environment variables of the section, in its shape (undefined where unset). */
export function tailLatencyFromEnv(env: NodeJS.ProcessEnv) {
  return {
    hedgeEnabled: env.HEDGE_ENABLED,
    hedgePercentile: env.HEDGE_PERCENTILE,
    hedgeMinDelayMs: env.HEDGE_MIN_DELAY_MS,
    hedgeMaxDelayMs: env.HEDGE_MAX_DELAY_MS,
    adaptiveDeadlineEnabled: env.ADAPTIVE_DEADLINE_ENABLED,
    adaptiveDeadlinePercentile: env.ADAPTIVE_DEADLINE_PERCENTILE,
    adaptiveDeadlineMultiplier: env.ADAPTIVE_DEADLINE_MULTIPLIER,
    adaptiveDeadlineFloorMs: env.ADAPTIVE_DEADLINE_FLOOR_MS,
    gatewayAdaptiveDeadlineFloorMs: env.GATEWAY_ADAPTIVE_DEADLINE_FLOOR_MS,
    latencyWindowSamples: env.LATENCY_WINDOW_SAMPLES,
    latencyWindowMs: env.LATENCY_WINDOW_MS,
    latencyMinSamples: env.LATENCY_MIN_SAMPLES,
  };
}

/** The section as the upstream client's policy, with the deadline floor of one tier. */
export function tailLatencyPolicy(tail: TailLatencyConfig, deadlineFloorMs = tail.adaptiveDeadlineFloorMs): TailLatencyOptions {
  return {
    hedge: {
      enabled: tail.hedgeEnabled,
      percentile: tail.hedgePercentile,
      minDelayMs: tail.hedgeMinDelayMs,
      maxDelayMs: tail.hedgeMaxDelayMs,
    },
    deadline: {
      enabled: tail.adaptiveDeadlineEnabled,
      percentile: tail.adaptiveDeadlinePercentile,
      multiplier: tail.adaptiveDeadlineMultiplier,
      floorMs: deadlineFloorMs,
    },
  };
}
