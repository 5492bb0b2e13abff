import { trace } from '@opentelemetry/api';
import { execute as executeLocally, getVariableValues, type ExecutionResult } from 'graphql';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ErrorCode, invalidVariables, type UpstreamFailure } from '../../lib/errors.ts';
import { withErrorCode } from '../../lib/errorTransforms.ts';
import type { StaleIfError } from '../../lib/fallback/staleIfError.ts';
import { inClientSpan, inSpan } from '../../lib/observability/spans.ts';
import type { UpstreamCallMetrics } from '../../lib/observability/upstreamCallMetrics.ts';
import type { SupergraphName } from '../../lib/topology/loadTopology.ts';
import { createDeadline } from '../../lib/upstream/deadline.ts';
import type { GraphQLResponse } from '../../lib/upstream/graphqlResponse.ts';
import type { GatewayClient } from '../gatewayClient.ts';
import { mergeResults, type PartOutcome } from '../mergeResults.ts';
import { analyseOperation } from '../operationAnalysis.ts';
import { partCallKind } from '../partCallKind.ts';
import type { RoutingTable } from '../routingTable.ts';
import { splitOperation, type SubOperation } from '../splitOperation.ts';
import { withDenials } from '../../lib/authorization/applyDenials.ts';
import type { EdgeStage } from './edgeRequest.ts';
import type { SupergraphPolicies } from './supergraphPolicies.ts';

export interface RoutingStageOptions {
  routingTable: RoutingTable;
  /** One client per supergraph in the routing table; each signs its calls. */
  gateways: Readonly<Record<SupergraphName, GatewayClient>>;
  /** Deadline of one gateway call. @default 10000 */
  gatewayTimeoutMs?: number;
  /** Stale-if-error for whole gateways, keyed by supergraph name. @default none */
  staleIfError?: StaleIfError;
  /** Count and duration of gateway calls by supergraph and outcome. @default none */
  callMetrics?: UpstreamCallMetrics;
  /** Each supergraph's own auth, limits and rate plans, checked per part. @default none beyond the router-wide ones */
  policies?: SupergraphPolicies;
  logger?: Logger;
}

/**
 * The last stage for queries and mutations: split → forward → merge. Each supergraph gets the root
 * fields it owns (queries in parallel, mutations run by run in the client's order), the router
 * answers root introspection and `__typename` itself, and a failed gateway nulls only its own fields
 * (its fallback, when its policy has one, standing in). One supergraph that answered cleanly the
 * client's own text is passed on as its bytes, neither parsed nor serialised again.
 */
export function createRoutingStage(options: RoutingStageOptions): EdgeStage {
  const { routingTable, gateways, gatewayTimeoutMs = 10_000, logger, staleIfError, callMetrics } = options;
  const policies = options.policies?.any ? options.policies : undefined;

  return async (request) => {
    const { params } = request;
    const document = request.document!;
    const rawVariables = params.variables ?? {};
    // The router's query plan: which supergraph answers which root fields, as one span.
    const planned = inSpan('router.plan', () => {
      const analysis = analyseOperation(routingTable, document, params.operationName);
      const coerced = getVariableValues(routingTable.schema, analysis.operation.variableDefinitions ?? [], rawVariables, { maxErrors: 25 });
      if (coerced.errors) return { errors: coerced.errors.map(invalidVariables) };
      return splitOperation({ document, operationName: params.operationName, variables: rawVariables, coercedVariables: coerced.coerced, query: params.query, routingTable });
    });
    if ('errors' in planned) return { kind: 'result', result: planned };
    const plan = planned;
    const principal = request.principal;
    const isMutation = plan.operationType === 'mutation';

    // One gateway call: a span (supergraph, attempts, fallback) and a timing by outcome.
    const forward = <Pass extends boolean = false>(part: SubOperation, pass?: Pass): Promise<Pass extends true ? PartOutcome | PassedPart : PartOutcome> =>
      inClientSpan(`gateway ${part.supergraph}`, async (span) => {
        const started = performance.now();
        const outcome = await forwardPart(part, pass === true);
        if (outcome.kind === 'refused') {
          span?.setAttributes({ 'graphql.supergraph.name': part.supergraph, 'supergraph.outcome': 'refused', 'error.type': String(outcome.error.extensions.code) });
          return outcome as never;
        }
        const kind = outcome.kind === 'answered' || outcome.kind === 'passed' ? 'answered' : outcome.kind === 'fallback' ? 'fallback' : 'failed';
        callMetrics?.observe(part.supergraph, kind, (performance.now() - started) / 1_000);
        span?.setAttributes({
          'graphql.supergraph.name': part.supergraph,
          'supergraph.outcome': kind,
          ...(outcome.kind === 'failed' || outcome.kind === 'fallback' ? { 'supergraph.attempts': outcome.failure.attempts, 'error.type': outcome.failure.reason } : {}),
          ...(outcome.kind === 'fallback' ? { 'supergraph.fallback': outcome.fallback.source } : {}),
        });
        return outcome as never;
      });

    const forwardPart = async (part: SubOperation, pass: boolean): Promise<PartOutcome | PassedPart> => {
      const common = { supergraph: part.supergraph, responseKeys: part.responseKeys };
      // Its supergraph's own policy first: a refused part is never sent, and answered like a failed one.
      const refusal = policies && (await policies.refusal({ part, principal, partition: request.caller.partition }));
      if (refusal) return { ...common, kind: 'refused', error: refusal };
      const principal_ = policies ? policies.principalFor(part.supergraph, principal) : principal;
      // The variables are serialised only if the fallback cache keys on them (its policy is `cache`).
      const target = {
        upstream: part.supergraph,
        query: part.query,
        get variablesJson() {
          return JSON.stringify(part.variables);
        },
        isMutation,
        isPublic: part.isPublic,
        principalId: principal_.userId,
      };
      const key = staleIfError?.keyFor(target);
      const failed = async (failure: UpstreamFailure): Promise<PartOutcome> => {
        const recovered = await staleIfError?.recover(target, key, { message: `The ${part.supergraph} supergraph is unavailable; its fields are empty for now.`, data: () => null });
        return recovered ? { ...common, kind: 'fallback', failure, ...recovered } : { ...common, kind: 'failed', failure };
      };
      const gateway = gateways[part.supergraph];
      if (!gateway) return failed({ reason: 'network', attempts: 0 });
      const deadline = createDeadline(gatewayTimeoutMs, request.source.signal);
      let passed = false;
      try {
        const call = { query: part.query, variables: part.variables, operationName: part.operationName, principal: principal_, headers: request.source.telemetry.traceHeaders() };
        const options = { kind: partCallKind(part, plan.operationType, routingTable) };
        const outcome = pass && gateway.pass ? await gateway.pass(call, deadline.signal, options) : await gateway.execute(call, deadline.signal, options);
        if (outcome.ok && 'passed' in outcome) {
          trace.getActiveSpan()?.setAttribute('supergraph.attempts', outcome.attempts);
          // The call's deadline (and the client's leaving) still bounds the body that follows.
          const body = outcome.passed;
          body.once('close', deadline.dispose);
          passed = true;
          // Kept whole only when the fallback cache wants it, once it has all arrived.
          return { kind: 'passed', status: outcome.status, body, remember: key === undefined ? undefined : (text) => staleIfError?.rememberBody(key, text) };
        }
        if (outcome.ok) {
          trace.getActiveSpan()?.setAttribute('supergraph.attempts', outcome.attempts);
          if (outcome.raw !== undefined) staleIfError?.rememberBody(key, outcome.raw);
          else staleIfError?.remember(key, outcome.result.data, Boolean(outcome.result.errors?.length));
          // The client's own text went through unchanged: relayed error locations point into it.
          return { ...common, kind: 'answered', result: outcome.result, raw: outcome.raw, passthroughSource: plan.passthrough ? part.query : undefined };
        }
        logger?.warn({ supergraph: part.supergraph, ...outcome.failure, detail: outcome.detail }, 'gateway call failed');
        return await failed(outcome.failure);
      } catch (error) {
        // The client went away: nobody is waiting for an answer.
        if (request.source.signal.aborted) throw error;
        // A client bug must not take the other supergraphs' answers with it.
        logger?.error({ err: error, supergraph: part.supergraph }, 'gateway client threw');
        return await failed({ reason: 'network', attempts: 1 });
      } finally {
        if (!passed) deadline.dispose();
      }
    };

    // One supergraph answered cleanly with the client's own operation: its bytes are the answer,
    // handed on as they arrive (JSON answers with nothing to add), else sent once whole.
    // (Not when fields were taken out for this caller: their nulls and errors are added to the answer.)
    if (plan.passthrough && !plan.local && !request.requestErrors?.length && !request.denials) {
      const streamable = request.source.transport === 'http' && request.source.mediaType !== 'text/event-stream' && !request.extensions;
      const outcome = await forward(plan.parts[0], streamable);
      if (outcome.kind === 'passed') {
        const { remember } = outcome;
        return { kind: 'bytes', status: outcome.status, body: outcome.body, keepWhole: remember !== undefined, onEnd: (complete, whole) => complete && whole !== undefined && remember?.(whole) };
      }
      if (outcome.kind === 'answered' && outcome.raw !== undefined) return { kind: 'result', result: passedOn(outcome.result, outcome.raw) };
      return { kind: 'result', result: mergeResults({ rootFields: plan.rootFields, parts: [outcome] }) };
    }

    let outcomes: PartOutcome[];
    if (isMutation) {
      // Mutation fields have side effects in the client's order: one run at a time, even when a
      // run fails (its fields are null; graphql-js would also carry on with the next root field).
      outcomes = [];
      for (const part of plan.parts) outcomes.push(await forward(part));
    } else {
      outcomes = await Promise.all(plan.parts.map((part) => forward(part)));
    }
    const local = plan.local && {
      responseKeys: plan.local.responseKeys,
      result: localResult(
        await executeLocally({ schema: routingTable.schema, document: plan.local.document, variableValues: plan.local.variables, operationName: plan.local.operationName, contextValue: request }),
      ),
    };
    const merged = mergeResults({ rootFields: plan.rootFields, parts: outcomes, local, extraErrors: request.requestErrors });
    return { kind: 'result', result: request.denials ? withDenials(merged, request.denials) : merged };
  };
}

/** A clean answer being handed on as it arrives; `remember` keeps its whole text for the fallback cache. */
interface PassedPart {
  kind: 'passed';
  status: number;
  body: Readable;
  remember: ((text: string) => void) | undefined;
}

/** The router's own introspection answer, its errors with a code like every other. */
function localResult(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => (error.extensions?.code ? error : withErrorCode(error, ErrorCode.INTERNAL_SERVER_ERROR))) };
}

/**
 * An answer whose bytes are already what the client gets: `stringify` gives them back, and `data`
 * (a lazy getter) is parsed only if something reads it.
 */
export function passedOn(result: GraphQLResponse, raw: string): ExecutionResult {
  const answer = { get data() { return result.data; } };
  return Object.defineProperty(answer, 'stringify', { value: () => raw, enumerable: false }) as ExecutionResult;
}

