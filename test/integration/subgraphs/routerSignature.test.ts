import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINCIPAL_HEADER, PRINCIPAL_TOKEN_TTL_MS, signPrincipal } from '../../../lib/principal.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../../scripts/scratchDatabase.ts';
import type { Store } from '../../../subgraphs/store/openDatabase.ts';
import { startSubgraph, type RunningSubgraph } from '../../../subgraphs/subgraphServer.ts';
import { postGraphQL } from '../../support/graphqlClient.ts';

// A subgraph answers only the router's signed requests, keeps health and `_service { sdl }` open,
// and accepts the previous secret during a rotation.
const CURRENT = 'rotation-current-secret-0123456789';
const PREVIOUS = 'rotation-previous-secret-0123456789';
let dir: string;
let store: Store;
let database: ScratchDatabase;
let server: RunningSubgraph;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'router-signature-'));
  database = await createScratchDatabase(dir);
  store = await database.open();
  server = await startSubgraph({ name: 'articles', port: 0, store, internalSecret: CURRENT, internalSecretPrevious: PREVIOUS });
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const ARTICLE = { query: '{ article(id: "a1") { id } }' };
const signed = (secret: string, now = Date.now()) => ({ [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, secret, now) });

describe('router signature at a subgraph', () => {
  it('accepts the current and, during a rotation, the previous secret', async () => {
    for (const secret of [CURRENT, PREVIOUS]) {
      expect((await postGraphQL(server.url, ARTICLE, signed(secret))).body).toEqual({ data: { article: { id: 'a1' } } });
    }
  });

  it.each([
    ['no signature', {}],
    ['another secret', signed('some-other-secret-0123456789')],
    ['an expired signature (a replay after its lifetime)', signed(CURRENT, Date.now() - PRINCIPAL_TOKEN_TTL_MS - 1)],
    ['a signature issued in the future', signed(CURRENT, Date.now() + 60_000)],
    ['a malformed header', { [PRINCIPAL_HEADER]: 'v1.e30.AAAA.extra' }],
  ])('refuses %s with 401 UNAUTHENTICATED, public fields included', async (_what, headers) => {
    const { status, body } = await postGraphQL(server.url, ARTICLE, headers);
    expect(status).toBe(401);
    expect(body).toEqual({ errors: [{ message: 'This service answers only requests signed by the router.', extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('keeps `_service { sdl }` (rover subgraph introspect) and the health endpoints open', async () => {
    // rover's own query text.
    const rover = 'query SubgraphIntrospectQuery {\n    # eslint-disable-next-line\n    _service {\n        sdl\n    }\n}';
    const { status, body } = await postGraphQL(server.url, { query: rover, operationName: 'SubgraphIntrospectQuery' });
    expect(status).toBe(200);
    expect(body.data!._service.sdl).toContain('type Article');
    for (const path of ['/healthz', '/readyz']) expect((await fetch(server.url.replace(/\/graphql$/, path))).status).toBe(200);
  });

  it('does not let anything ride along with `_service` unsigned', async () => {
    for (const query of [
      '{ __typename }',
      '{ _service { sdl } article(id: "a1") { id } }',
      '{ _service { sdl } ...F } fragment F on Query { article(id: "a1") { id } }',
      'query A { _service { sdl } } query B { article(id: "a1") { id } }',
      `{ _service { sdl } ${'a: __typename '.repeat(200)}}`,
    ]) {
      const operationName = query.startsWith('query A') ? 'B' : undefined;
      expect((await postGraphQL(server.url, { query, operationName })).status, query.slice(0, 60)).toBe(401);
    }
  });
});
