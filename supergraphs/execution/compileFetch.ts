import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { FetchNode, ResponsePath } from '@apollo/query-planner';
import { subgraphError, type SubgraphWireError } from '../../lib/errors.ts';
import type { GatewayContext } from '../gatewayContext.ts';
import { compileRewrites } from './dataRewrites.ts';
import { errorPathMapper } from './errorPaths.ts';
import { mergeAnswer } from './mergeAnswer.ts';
import { compileRepresentation } from './representations.ts';
import type { TypeConditions } from './typeConditions.ts';

type Data = Record<string, unknown>;

/** One request's execution of a plan: what its fetches read and write. */
export interface PlanRun {
  /** The request's variables as the client sent them (the gateway validated them). */
  variables: Record<string, unknown> | undefined;
  context: GatewayContext;
  /** What the data sources get as `incomingRequestContext`. */
  incomingRequestContext: GatewayGraphQLRequestContext<GatewayContext>;
  /** Data sources by subgraph: every fetch goes through them, fallbacks and hedging included. */
  services: Readonly<Record<string, GraphQLDataSource<GatewayContext>>>;
  /** The whole result so far; fetches merge their answers into it in place. */
  data: Data;
  /** Errors of the request's fetches, already on the client's paths. */
  errors: Error[];
}

/** A fetch, compiled: runs it for the entities (or the root object) its cursor points at. */
export type CompiledFetch = (run: PlanRun, entities: Data | Data[]) => Promise<void>;

/** The data sources' `kind` for a plan's fetch (an enum @apollo/gateway does not export). */
const INCOMING_OPERATION = 'incoming operation' as GraphQLDataSourceProcessOptions['kind'];

/**
 * Compiles one `Fetch` node of a plan, at the path its `Flatten` parents give it, once per plan: the
 * representation extractor of its `requires`, its rewrites, its variables. A run then sends one request
 * per fetch (all entities batched in `representations`, as Apollo does), maps the subgraph's errors to
 * the client's paths, and merges each answer into the entity it belongs to, in place.
 */
export function compileFetch(node: FetchNode, cursorPath: ResponsePath, types: TypeConditions): CompiledFetch {
  const representationOf = node.requires ? compileRepresentation(node.requires, types) : undefined;
  const inputRewrite = compileRewrites(node.inputRewrites, types);
  const outputRewrite = compileRewrites(node.outputRewrites, types);
  const usages = node.variableUsages ?? [];
  const { serviceName } = node;

  const send = async (run: PlanRun, variables: Data): Promise<Data | null | undefined> => {
    const service = run.services[serviceName];
    if (!service) throw new Error(`Couldn't find service with name "${serviceName}"`);
    const response = await service.process({
      kind: INCOMING_OPERATION,
      request: { query: node.operation, variables, operationName: node.operationName },
      incomingRequestContext: run.incomingRequestContext,
      context: run.context,
      document: node.operationDocumentNode,
      pathInIncomingRequest: cursorPath,
    } as GraphQLDataSourceProcessOptions<GatewayContext>);
    if (response.errors) {
      // Mapped before this answer is merged, against the result as the fetch found it (as Apollo does).
      const pathOf = errorPathMapper(Boolean(node.requires), cursorPath, run.data);
      for (const error of response.errors as SubgraphWireError[]) run.errors.push(subgraphError(error, serviceName, pathOf(error.path)));
    }
    return response.data as Data | null | undefined;
  };

  return async (run, at) => {
    // A Flatten hands over its objects without nulls; the root fetch gets the root object.
    const entities: Data[] = Array.isArray(at) ? (at as Data[]) : [at];
    if (entities.length === 0) return;
    const variables: Data = {};
    const provided = run.variables;
    if (provided) {
      for (const name of usages) if (Object.hasOwn(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
    }

    if (!representationOf) {
      const answer = await send(run, variables);
      if (answer) outputRewrite?.(answer);
      for (const entity of entities) mergeAnswer(entity, answer);
      return;
    }

    const representations: Data[] = [];
    const owners: Data[] = [];
    for (const entity of entities) {
      const representation = representationOf(entity);
      if (representation && representation.__typename) {
        inputRewrite?.(representation);
        representations.push(representation);
        owners.push(entity);
      }
    }
    // None of the entities matched the type conditions of `requires` (or each lacks an input).
    if (representations.length === 0) return;
    if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
    variables.representations = representations;
    const answer = await send(run, variables);
    if (!answer) return;
    const received = answer._entities;
    if (!Array.isArray(received)) throw new Error('Expected "data._entities" in response to be an array');
    if (received.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
    for (let i = 0; i < received.length; i++) {
      const entity = received[i] as Data | null;
      if (entity && !entity.__typename) entity.__typename = owners[i].__typename;
      outputRewrite?.(entity);
      mergeAnswer(owners[i], entity);
    }
  };
}
