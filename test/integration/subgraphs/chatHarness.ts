import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../../lib/config.ts';
import type { Principal } from '../../../lib/principal.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../../scripts/scratchDatabase.ts';
import type { Store } from '../../../subgraphs/store/openDatabase.ts';
import type { SubgraphName } from '../../../subgraphs/subgraphNames.ts';
import type { ChatRuntime } from '../../../subgraphs/chat/chatRuntime.ts';
import type { LocalGenerator } from '../../../subgraphs/chat/inference/localGenerator.ts';
import { startSubgraph, type RunningSubgraph } from '../../../subgraphs/subgraphServer.ts';
import { postGraphQL, type GraphQLHttpResult } from '../../support/graphqlClient.ts';
import { SseSubscription, type SubscriptionResult } from '../../support/sseSubscription.ts';
import { TEST_SECRET, asPrincipal } from './subgraphHarness.ts';

const CHUNK_FIELDS = 'conversationId messageId index delta done finishReason cached model { id } usage { promptTokens completionTokens totalTokens }';
export const CHAT_STREAM = `subscription ($input: ChatInput!) { chatStream(input: $input) { ${CHUNK_FIELDS} } }`;
export const CHAT_RESUME = `subscription ($messageId: ID!, $after: Int!) { chatResume(messageId: $messageId, after: $after) { ${CHUNK_FIELDS} } }`;

export interface Chunk {
  conversationId: string;
  messageId: string;
  index: number;
  delta: string;
  done: boolean;
  finishReason: string | null;
  cached: boolean;
  model: { id: string };
  usage: { promptTokens: number; completionTokens: number; totalTokens: number } | null;
}

/** What one subscription delivered: its chunks in arrival order, and the errors of its events. */
export interface Received {
  chunks: Chunk[];
  errors: NonNullable<SubscriptionResult['errors']>;
  completed: boolean;
}

export const u1 = { userId: 'u1', scopes: ['chat'] } satisfies Principal; // PRO
export const u2 = { userId: 'u2', scopes: ['chat'] } satisfies Principal; // ENTERPRISE
export const u3 = { userId: 'u3', scopes: ['chat'] } satisfies Principal; // FREE

export interface ChatHarness {
  store: Store;
  /** The store's database, for child processes to open too (its `env`). */
  database: ScratchDatabase;
  dir: string;
  config: Config;
  servers: Partial<Record<SubgraphName, RunningSubgraph>>;
  /** Chat servers started so far (the first is servers.chat). */
  chats: RunningSubgraph[];
  /** Another chat server on the same store and config: a second replica. */
  startChat(options?: { drainGraceMs?: number }): Promise<RunningSubgraph>;
  subscribe(server: RunningSubgraph, query: string, variables: Record<string, unknown>, principal?: Principal): Promise<SseSubscription>;
  post(name: SubgraphName, query: string, variables?: Record<string, unknown>, principal?: Principal): Promise<GraphQLHttpResult>;
  dispose(): Promise<void>;
}

export function runtimeOf(server: RunningSubgraph): ChatRuntime {
  return server.runtime as ChatRuntime;
}

export function generatorOf(server: RunningSubgraph): LocalGenerator {
  return runtimeOf(server).backend as LocalGenerator;
}

/** Reads `count` chunks (or fewer when the stream ends first). */
export async function take(subscription: SseSubscription, count: number): Promise<Received> {
  const received: Received = { chunks: [], errors: [], completed: false };
  while (received.chunks.length < count) {
    const result = await subscription.next();
    if (!result) break;
    if (result.errors) received.errors.push(...result.errors);
    const chunk = (result.data?.chatStream ?? result.data?.chatResume) as Chunk | undefined;
    if (chunk) received.chunks.push(chunk);
  }
  received.completed = subscription.completed;
  return received;
}

/** Reads to the end of the stream. */
export function readAll(subscription: SseSubscription): Promise<Received> {
  return take(subscription, Number.POSITIVE_INFINITY);
}

/** Real subgraph servers (chat and whatever else is named) on port 0 over one fresh database (TEST_DATABASE picks the engine). */
export async function startChatHarness(env: Record<string, string> = {}, others: SubgraphName[] = []): Promise<ChatHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-test-'));
  const database = await createScratchDatabase(dir);
  const store = await database.open({ poolSize: 10 });
  const config = loadConfig({ CHAT_TOKEN_INTERVAL_MS: '2', CHAT_LEASE_MS: '600', CHAT_FOLLOW_POLL_MS: '25', ...env });
  const servers: ChatHarness['servers'] = {};
  const chats: RunningSubgraph[] = [];
  const startChat = async (options: { drainGraceMs?: number } = {}) => {
    const server = await startSubgraph({ name: 'chat', port: 0, store, internalSecret: TEST_SECRET, config, drainGraceMs: options.drainGraceMs ?? 2_000 });
    chats.push(server);
    return server;
  };
  servers.chat = await startChat();
  for (const name of others) servers[name] = await startSubgraph({ name, port: 0, store, internalSecret: TEST_SECRET, config });
  return {
    store,
    database,
    dir,
    config,
    servers,
    chats,
    startChat,
    subscribe: (server, query, variables, principal = u1) => SseSubscription.open(server.url, { query, variables }, asPrincipal(principal)),
    post: (name, query, variables, principal) => postGraphQL(servers[name]!.url, { query, variables }, principal ? asPrincipal(principal) : {}),
    async dispose() {
      await Promise.all([...chats, ...Object.values(servers)].map((s) => s.close()));
      await store.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
