import { buildSchema, getOperationAST, parse, validate, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SupergraphName } from '../../../lib/topology/loadTopology.ts';
import type { GatewayClient, GatewayOutcome, GatewayRequest } from '../../../router/gatewayClient.ts';
import { createRequestTelemetry } from '../../../lib/observability/requestTelemetry.ts';
import { ANONYMOUS, EdgeRequest } from '../../../router/edge/edgeRequest.ts';
import { createRoutingStage } from '../../../router/edge/routingStage.ts';
import { buildRoutingTable } from '../../../router/routingTable.ts';
import { deferred, settle } from '../../support/deferred.ts';

// The composed supergraphs have mutations in commerce only; ordering across supergraphs needs these.
const table = buildRoutingTable({
  identity: buildSchema('type Query { me: String! } type Mutation { rename(name: String!): String! setPlan(plan: String!): String! }'),
  commerce: buildSchema('type Query { articles: Int! models: [String!]! } type Mutation { placeOrder(key: String!): Int! }'),
});


function harness(answer: (supergraph: SupergraphName, request: GatewayRequest, signal: AbortSignal) => Promise<GatewayOutcome>) {
  const log: string[] = [];
  const gateway = (supergraph: SupergraphName): GatewayClient => ({
    supergraph,
    async execute(request, signal, options) {
      log.push(`start ${supergraph} ${{ write: 'once', idempotent: 'idempotent', query: 'retryable' }[options?.kind ?? 'query']}`);
      try {
        return await answer(supergraph, request, signal);
      } finally {
        log.push(`end ${supergraph}`);
      }
    },
    lastAnsweredAt: () => undefined,
    close: async () => {},
  });
  const route = createRoutingStage({
    routingTable: table,
    gateways: { identity: gateway('identity'), commerce: gateway('commerce') },
    gatewayTimeoutMs: 1_000,
  });
  const run = async (query: string, variables: Record<string, unknown> = {}, signal = new AbortController().signal): Promise<ExecutionResult> => {
    const document = parse(query);
    expect(validate(table.schema, document)).toEqual([]);
    const source = { transport: 'http' as const, method: 'POST', header: () => undefined, remoteAddress: undefined, signal, mediaType: 'application/json' as const, streamAccepted: false, telemetry: createRequestTelemetry().begin() };
    const request = new EdgeRequest(source, { query, variables });
    request.caller = { principal: ANONYMOUS, partition: 'addr:test', policy: { name: 'anonymous', limit: 1, windowSeconds: 1 } };
    request.document = document;
    request.operation = getOperationAST(document)!;
    const answer = await route(request);
    if (answer?.kind !== 'result') throw new Error(`not a result: ${answer?.kind}`);
    return answer.result;
  };
  return { log, run };
}

/** Answers every root field of the sub-operation with `<supergraph>:<alias>`. */
function echo(supergraph: SupergraphName, request: GatewayRequest): GatewayOutcome {
  const data: Record<string, unknown> = {};
  for (const match of request.query.matchAll(/(\w+): \w+\(/g)) data[match[1]] = `${supergraph}:${match[1]}`;
  return { ok: true, status: 200, attempts: 1, result: { data } };
}

describe('routed execution', () => {
  it('runs mutation runs one after the other, in client field order, never retried', async () => {
    const firstRun = deferred();
    const { log, run } = harness(async (supergraph, request) => {
      // The first run waits for the test: a parallel executor would start the others meanwhile.
      if (supergraph === 'identity' && request.query.includes('first')) await firstRun.promise;
      return echo(supergraph, request);
    });
    const pending = run(
      'mutation($k: String!) { first: rename(name: "a") order: placeOrder(key: $k) last: setPlan(plan: "PRO") }',
      { k: 'key-1' },
    );
    await settle();
    expect(log).toEqual(['start identity once']);
    firstRun.resolve();
    const result = await pending;
    expect(log).toEqual(['start identity once', 'end identity', 'start commerce once', 'end commerce', 'start identity once', 'end identity']);
    expect(result).toEqual({ data: { first: 'identity:first', order: 'commerce:order', last: 'identity:last' } });
  });

  it('carries on with the next mutation run when one fails, nulling only its fields', async () => {
    const { run } = harness(async (supergraph, request) =>
      supergraph === 'commerce' ? { ok: false, failure: { reason: 'http_5xx', attempts: 1 }, detail: '502' } : echo(supergraph, request),
    );
    const result = await run('mutation { a: rename(name: "a") b: placeOrder(key: "k") c: setPlan(plan: "PRO") }');
    expect(result.data).toEqual({ a: 'identity:a', b: null, c: 'identity:c' });
    expect(result.errors?.map((e) => [e.path, e.extensions.code])).toEqual([[['b'], 'SUPERGRAPH_UNAVAILABLE']]);
  });

  it('sends query parts in parallel, as retryable', async () => {
    const answers = deferred();
    const { log, run } = harness(async (supergraph) => {
      await answers.promise;
      return { ok: true, status: 200, attempts: 1, result: { data: supergraph === 'identity' ? { me: 'u1' } : { articles: 3 } } };
    });
    const pending = run('{ articles me }');
    await settle();
    // Both started before either could end.
    expect(log.sort()).toEqual(['start commerce retryable', 'start identity retryable']);
    answers.resolve();
    const result = await pending;
    expect(result).toEqual({ data: { articles: 3, me: 'u1' } });
  });

  it('aborts gateway calls when the client goes away', async () => {
    const seen: AbortSignal[] = [];
    const bothCalled = deferred();
    const { run } = harness((_supergraph, _request, signal) => {
      if (seen.push(signal) === 2) bothCalled.resolve();
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const controller = new AbortController();
    const pending = run('{ articles me }', {}, controller.signal);
    await bothCalled.promise;
    controller.abort(new DOMException('client left', 'AbortError'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.aborted)).toBe(true);
  });

  it('answers BAD_USER_INPUT with HTTP 400 for variables that do not coerce', async () => {
    const { log, run } = harness(async (supergraph, request) => echo(supergraph, request));
    const result = await run('mutation($k: String!) { placeOrder(key: $k) }', { k: 12 });
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', http: { status: 400 } });
    expect(result.data).toBeUndefined();
    expect(log).toEqual([]);
  });
});
