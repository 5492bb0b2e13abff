import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryCacheStore } from '../../../lib/cache/memoryCacheStore.ts';
import { loadConfig } from '../../../lib/config.ts';
import { SupergraphName } from '../../../lib/topology/loadTopology.ts';
import { createRouter } from '../../../router/createRouter.ts';
import type { GatewayClient, GatewayOutcome, GatewayRequest } from '../../../router/gatewayClient.ts';

// In-process: the fresh response cache decides from the schema's hints alone what it may share.
const KEYS: Record<string, string> = { 'key-u1-0123456789': 'u1', 'key-u2-0123456789': 'u2' };
const calls: Array<{ supergraph: SupergraphName; query: string }> = [];
const written: string[] = [];

class RecordingStore extends MemoryCacheStore {
  override async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    written.push(key);
    await super.set(key, value, ttlSeconds);
  }
}

function gateway(supergraph: SupergraphName, answer: (request: GatewayRequest) => Record<string, unknown>): GatewayClient {
  return {
    supergraph,
    async execute(request): Promise<GatewayOutcome> {
      if (request.operationName === 'RouterAuthenticate') {
        const userId = KEYS[String(request.variables?.apiKey)];
        return { ok: true, status: 200, attempts: 1, result: { data: { _internalAuthenticate: userId ? { userId, scopes: [] } : null } } };
      }
      calls.push({ supergraph, query: request.query });
      return { ok: true, status: 200, attempts: 1, result: { data: answer(request) } };
    },
    lastAnsweredAt: () => undefined,
    close: async () => {},
  };
}

const store = new RecordingStore();
let meCount = 0;
const router = createRouter({
  config: loadConfig({}),
  internalSecret: 'response-cache-secret-0123456789',
  cacheStore: store,
  logger: pino({ level: 'silent' }),
  gateways: {
    identity: gateway('identity', () => ({ me: { id: `user-${++meCount}` } })),
    commerce: gateway('commerce', () => ({ models: [{ id: 'm1' }] })),
  },
});
afterAll(() => router.close());
beforeEach(() => {
  calls.length = 0;
  written.length = 0;
});

async function post(query: string, key?: string) {
  const response = await router.fetch('http://router.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, any> };
}

describe('the router’s fresh response cache', () => {
  it('answers a public query from the cache within its maxAge, for any caller', async () => {
    expect(await post('{ models { id } }', 'key-u1-0123456789')).toEqual({ data: { models: [{ id: 'm1' }] } });
    expect(written.filter((k) => k.startsWith('rc:'))).toHaveLength(1);
    expect(await post('{ models { id } }', 'key-u2-0123456789')).toEqual({ data: { models: [{ id: 'm1' }] } });
    expect(await post('{ models { id } }')).toEqual({ data: { models: [{ id: 'm1' }] } });
    expect(calls).toHaveLength(1);
  });

  it('never stores nor shares a private answer, alone or next to public fields', async () => {
    for (const query of ['{ me { id } }', '{ me { id } models { id } }']) {
      const first = await post(query, 'key-u1-0123456789');
      const second = await post(query, 'key-u2-0123456789');
      expect(second.data?.me).not.toEqual(first.data?.me);
    }
    expect(written.filter((k) => k.startsWith('rc:'))).toEqual([]);
    expect(calls.filter((c) => c.supergraph === 'identity')).toHaveLength(4);
  });
});
