import type { ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { badRequest, streamInterrupted, supergraphUnavailable, tooManyStreams } from '../lib/errors.ts';
import { PRINCIPAL_HEADER, principalSigner } from '../lib/principal.ts';
import type { SupergraphName } from '../lib/topology/loadTopology.ts';
import { withTraceHeaders } from '../lib/observability/tracing.ts';
import { parseGraphQLResponse } from '../lib/upstream/graphqlResponse.ts';
import { isInterrupted } from '../lib/upstream/resumableStream.ts';
import { UpstreamError } from '../lib/upstream/upstreamClient.ts';
import type { GatewayClient } from './gatewayClient.ts';
import { relayGatewayError } from './relayGatewayError.ts';
import type { RouterExecutionContext } from './routerContext.ts';
import type { RoutingTable } from './routingTable.ts';
import { partCallKind } from './partCallKind.ts';
import { splitOperation } from './splitOperation.ts';
import type { StreamLimiter } from './streamLimiter.ts';

export interface RoutedSubscribeOptions {
  routingTable: RoutingTable;
  gateways: Readonly<Record<SupergraphName, GatewayClient>>;
  internalSecret: string;
  streams: StreamLimiter;
  /** The caller a stream counts against: the principal, else the client's address. */
  callerOf(context: Partial<RouterExecutionContext>): string;
  /** Aborted when the router is leaving: streams let go of their gateway at once, as when their client goes. @default never */
  leaving?: AbortSignal;
  logger?: Logger;
}

type Subscribe = (args: ExecutionArgs) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;

/**
 * Carries a subscription to the gateway of the supergraph that owns its root field (a subscription
 * has exactly one), as the client wrote it, and relays its events: errors sanitised like any
 * gateway error, `extensions.eventId` kept so the SSE transport can send it as the event's id. The
 * client's `Last-Event-ID` goes along, so a reconnecting client resumes where it left off; a gateway
 * instance that dies mid-stream is replaced by another the same way.
 */
export function createRoutedSubscribe(options: RoutedSubscribeOptions): Subscribe {
  const { routingTable, gateways, internalSecret, streams, callerOf, leaving, logger } = options;
  const sign = principalSigner(internalSecret);
  return async (args) => {
    const context = (args.contextValue ?? {}) as Partial<RouterExecutionContext>;
    // graphql-js validates no root type for subscriptions: a schema without one is refused here.
    if (!routingTable.schema.getSubscriptionType()) return { errors: [badRequest('This graph has no subscriptions.')] };
    const plan = splitOperation({
      document: args.document,
      operationName: args.operationName,
      variables: (args.variableValues ?? {}) as Record<string, unknown>,
      query: typeof context.params?.query === 'string' ? context.params.query : undefined,
      routingTable,
    });
    const [part] = plan.parts;
    const gateway = part && gateways[part.supergraph];
    if (!part || !gateway?.subscribe) return { errors: [supergraphUnavailable(part?.supergraph ?? 'unknown', undefined, { reason: 'network', attempts: 0 })] };
    const release = streams.acquire(callerOf(context));
    if (!release) return { errors: [tooManyStreams()] };

    const abort = new AbortController();
    const onClientGone = () => abort.abort(context.request?.signal?.reason);
    context.request?.signal?.addEventListener('abort', onClientGone, { once: true });
    leaving?.addEventListener('abort', onClientGone, { once: true });
    const done = () => {
      context.request?.signal?.removeEventListener('abort', onClientGone);
      leaving?.removeEventListener('abort', onClientGone);
      abort.abort(new DOMException('subscription ended', 'AbortError'));
      release();
    };
    const principal = context.principal ?? { scopes: [] };
    // Taken once: a stream re-opened later (on another gateway) continues the same trace.
    const traceHeaders = withTraceHeaders({});
    let events;
    try {
      events = await gateway.subscribe(
        { query: part.query, variables: part.variables, operationName: part.operationName },
        {
          lastEventId: context.request?.headers.get('last-event-id') ?? undefined,
          kind: partCallKind(part, 'subscription', routingTable),
          signal: abort.signal,
          freshHeaders: () => ({ ...traceHeaders, [PRINCIPAL_HEADER]: sign(principal) }),
        },
      );
    } catch (error) {
      done();
      if (!(error instanceof UpstreamError)) throw error;
      logger?.warn({ supergraph: part.supergraph, ...error.failure }, 'subscription could not be opened');
      return { data: null, errors: part.responseKeys.map((key) => supergraphUnavailable(part.supergraph, [key], error.failure)) };
    }

    const source = plan.passthrough ? part.query : undefined;
    return (async function* relay(): AsyncGenerator<ExecutionResult> {
      try {
        for await (const event of events) {
          if (isInterrupted(event)) {
            yield { errors: [streamInterrupted(part.supergraph, event.after)] };
            return;
          }
          const payload = parseGraphQLResponse(event.data);
          if (!payload) continue;
          const errors: GraphQLError[] = (payload.errors ?? []).map((wire) => relayGatewayError(wire, { supergraph: part.supergraph, source }));
          const eventId = event.id ?? (payload.extensions?.eventId as string | undefined);
          yield {
            ...('data' in payload ? { data: payload.data } : {}),
            ...(errors.length ? { errors } : {}),
            ...(eventId ? { extensions: { eventId } } : {}),
          };
        }
      } finally {
        done();
        await events.return(undefined);
      }
    })();
  };
}
