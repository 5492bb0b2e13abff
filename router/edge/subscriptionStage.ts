import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { badRequest, streamInterrupted, supergraphUnavailable, tooManyStreams } from '../../lib/errors.ts';
import { refusedWith } from '../../lib/server/graphqlEndpoint.ts';
import { LastEvent, mapEvents } from '../../lib/server/mapEvents.ts';
import type { SupergraphName } from '../../lib/topology/loadTopology.ts';
import type { StreamEvent } from '../../lib/upstream/eventStream.ts';
import { parseGraphQLResponse } from '../../lib/upstream/graphqlResponse.ts';
import { isInterrupted, type Interrupted } from '../../lib/upstream/resumableStream.ts';
import { UpstreamError } from '../../lib/upstream/upstreamClient.ts';
import type { GatewayClient } from '../gatewayClient.ts';
import { partCallKind } from '../partCallKind.ts';
import { relayGatewayError } from '../relayGatewayError.ts';
import type { RoutingTable } from '../routingTable.ts';
import { splitOperation } from '../splitOperation.ts';
import type { StreamLimiter } from '../streamLimiter.ts';
import type { EdgeStage } from './edgeRequest.ts';
import { withDenials } from '../../lib/authorization/applyDenials.ts';
import { refusalOn, type SupergraphPolicies } from './supergraphPolicies.ts';

export interface SubscriptionStageOptions {
  routingTable: RoutingTable;
  gateways: Readonly<Record<SupergraphName, GatewayClient>>;
  /** Open streams per caller (the caller's rate-limit partition: its API key, else its address). */
  streams: StreamLimiter;
  /** Each supergraph's own auth, limits and rate plans. @default none beyond the router-wide ones */
  policies?: SupergraphPolicies;
  logger?: Logger;
}

/**
 * The last stage for subscriptions: carried to the gateway of the supergraph that owns the root
 * field (a subscription has exactly one), as the client wrote it, and its events relayed: errors
 * sanitised like any gateway error, `extensions.eventId` kept so the SSE transport sends it as the
 * event's id. The client's `Last-Event-ID` goes along, so a reconnecting client resumes where it
 * left off; a gateway instance that dies mid-stream is replaced by another the same way. The stream
 * holds the caller's slot, the upstream stream and its relay, nothing else.
 */
export function createSubscriptionStage(options: SubscriptionStageOptions): EdgeStage {
  const { routingTable, gateways, streams, logger } = options;
  return async (request) => {
    const { params, source } = request;
    // graphql-js validates no root type for subscriptions: a schema without one is refused here.
    if (!routingTable.schema.getSubscriptionType()) return refusedWith(badRequest('This graph has no subscriptions.'));
    if (!source.streamAccepted) return refusedWith(badRequest('A subscription is answered as a stream: send Accept: text/event-stream.', 406));
    const plan = splitOperation({ document: request.document!, operationName: params.operationName, variables: params.variables ?? {}, query: params.query, routingTable });
    const [part] = plan.parts;
    const gateway = part && gateways[part.supergraph];
    if (!part || !gateway?.subscribe) return refusedWith(supergraphUnavailable(part?.supergraph ?? 'unknown', undefined, { reason: 'network', attempts: 0 }));
    const refusal = options.policies?.any ? await options.policies.refusal({ part, principal: request.principal, partition: request.caller.partition }) : undefined;
    if (refusal) return { kind: 'result', result: { data: null, errors: part.responseKeys.map((key) => refusalOn(refusal, key)) } };
    const principal = options.policies?.principalFor(part.supergraph, request.principal) ?? request.principal;
    // Counted per user (any of its keys), else per address.
    const release = streams.acquire(request.principal.userId ? `user:${request.principal.userId}` : request.caller.partition);
    if (!release) return refusedWith(tooManyStreams());

    let events: AsyncGenerator<StreamEvent | Interrupted>;
    try {
      events = await gateway.subscribe(
        // Trace headers taken once: a stream re-opened later (on another gateway) continues the same trace.
        { query: part.query, variables: part.variables, operationName: part.operationName, principal, headers: source.telemetry.traceHeaders() },
        { lastEventId: source.header('last-event-id'), kind: partCallKind(part, 'subscription', routingTable), signal: source.signal },
      );
    } catch (error) {
      release();
      if (!(error instanceof UpstreamError)) throw error;
      logger?.warn({ supergraph: part.supergraph, ...error.failure }, 'subscription could not be opened');
      return { kind: 'result', result: { data: null, errors: part.responseKeys.map((key) => supergraphUnavailable(part.supergraph, [key], error.failure)) } };
    }

    const sourceText = plan.passthrough ? part.query : undefined;
    const relay = (event: StreamEvent | Interrupted): ExecutionResult | LastEvent<ExecutionResult> | undefined => {
      // An interruption is the last event: nothing follows it.
      if (isInterrupted(event)) return new LastEvent({ errors: [streamInterrupted(part.supergraph, event.after)] });
      const payload = parseGraphQLResponse(event.data);
      if (!payload) return undefined;
      const errors: GraphQLError[] = (payload.errors ?? []).map((wire) => relayGatewayError(wire, { supergraph: part.supergraph, source: sourceText }));
      const eventId = event.id ?? (payload.extensions?.eventId as string | undefined);
      const result: ExecutionResult = {
        ...('data' in payload ? { data: payload.data } : {}),
        ...(errors.length ? { errors } : {}),
        ...(eventId ? { extensions: { eventId } } : {}),
      };
      // Fields this caller may not see were taken out: each event gets their nulls and errors.
      return request.denials && 'data' in result ? withDenials(result, request.denials) : result;
    };
    return { kind: 'stream', events: source.telemetry.stream(mapEvents(events, relay, release)) };
  };
}
