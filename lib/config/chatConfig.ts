import { z } from 'zod';

const ms = z.coerce.number().int().positive();

/**
 * The chat subgraph's section of the config: pace of the local generator, the optional
 * OpenAI-compatible backend, and the timings of the shared chunk log. Kept out of config.ts, which
 * imports it, so that file stays one screenful per concern.
 */
export const chatConfigSchema = z.object({
  /** Pause between two tokens of the embedded deterministic generator, ms; 0 streams as fast as possible. @default 20 */
  tokenIntervalMs: z.coerce.number().int().min(0).default(20),
  /** Base URL of an OpenAI-compatible API (e.g. https://api.deepseek.com/v1); the embedded generator when absent. */
  backendUrl: z.string().url().optional(),
  /** Bearer token for the backend; optional because local servers (vLLM, Ollama) often need none. */
  backendApiKey: z.string().min(1).optional(),
  /** Model name sent to the backend for every catalog model; the catalog id (m-small, …) when absent. */
  backendModel: z.string().min(1).optional(),
  /** How long the backend may take to answer with headers, ms. @default 30000 */
  backendTimeoutMs: ms.default(30_000),
  /** Longest silence between two streamed chunks of the backend before the answer counts as broken, ms. @default 30000 */
  backendIdleTimeoutMs: ms.default(30_000),
  /** How long a replica's claim on a running generation lasts without a heartbeat, ms; a dead replica's answers resume after it. @default 3000 */
  leaseMs: ms.default(3_000),
  /** How often a follower on another replica looks for new chunks when nothing woke it, ms. @default 100 */
  followPollMs: ms.default(100),
  /** How long an answer stays in the prompt cache, s. @default 3600 */
  promptCacheTtlSeconds: z.coerce.number().int().positive().default(3_600),
  /** How long an answer's chunks stay replayable with chatResume, s. @default 86400 */
  chunkLogTtlSeconds: z.coerce.number().int().positive().default(86_400),
}).superRefine((chat, ctx) => {
  if (chat.backendApiKey && !chat.backendUrl) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backendUrl'], message: 'required when CHAT_BACKEND_API_KEY is set' });
  }
  // Three heartbeats per lease: one late heartbeat must not hand a live generation to another replica.
  if (chat.followPollMs > chat.leaseMs) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['followPollMs'], message: `must not exceed chat.leaseMs (${chat.leaseMs} ms)` });
  }
});

export type ChatConfig = z.infer<typeof chatConfigSchema>;

/** The chat section's environment variables, in the shape of the section (unset ones stay undefined). */
export function chatEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return {
    tokenIntervalMs: env.CHAT_TOKEN_INTERVAL_MS,
    backendUrl: env.CHAT_BACKEND_URL,
    backendApiKey: env.CHAT_BACKEND_API_KEY,
    backendModel: env.CHAT_BACKEND_MODEL,
    backendTimeoutMs: env.CHAT_BACKEND_TIMEOUT_MS,
    backendIdleTimeoutMs: env.CHAT_BACKEND_IDLE_TIMEOUT_MS,
    leaseMs: env.CHAT_LEASE_MS,
    followPollMs: env.CHAT_FOLLOW_POLL_MS,
    promptCacheTtlSeconds: env.CHAT_PROMPT_CACHE_TTL_SECONDS,
    chunkLogTtlSeconds: env.CHAT_CHUNK_LOG_TTL_SECONDS,
  };
}
