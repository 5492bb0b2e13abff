import type { GraphQLDataSource } from '@apollo/gateway';
import { inSpan } from '../../lib/observability/spans.ts';
import { operationFromDocument, type Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  executeSync,
  getOperationAST,
  getVariableValues,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import type { GatewayContext } from '../gatewayContext.ts';
import type { PlanRun } from './compileFetch.ts';
import { compilePlan, type CompiledPlan } from './compilePlan.ts';
import { compileResponseShape, type ResponseShape, type ShapeField } from './compileResponseShape.ts';
import { shapeResponse } from './shapeResponse.ts';
import { typeConditionsOf } from './typeConditions.ts';

export interface PlanExecutorOptions {
  supergraph: Supergraph;
  /** The supergraph schema (with @inaccessible elements): entity representations and rewrites are checked against it. */
  supergraphSchema: GraphQLSchema;
  /** The data sources by subgraph, read per request (the gateway builds them while it loads). */
  services(): Readonly<Record<string, GraphQLDataSource<GatewayContext>>>;
  /** Shared with the subscription executor, so one generation builds one query graph. @default a new one */
  planner?: QueryPlanner;
  /** Operations whose documents the parse cache dropped, kept by text. @default 1000 */
  maxOperations?: number;
}

/** Everything about one operation that does not depend on the request, built on its first request. */
interface CompiledOperation {
  definition: OperationDefinitionNode;
  plan: QueryPlan;
  /** Undefined for a subscription: its events run the plans `executePlan` is given. */
  compiled: CompiledPlan | undefined;
  shape: ResponseShape;
  /** Introspection documents by field, built on first use. */
  introspection: Map<ShapeField, DocumentNode>;
}

/** The gateway's execution of operations, and of the plans a subscription runs per event. */
export interface PlanExecutor {
  /** Plans (once per operation), runs and shapes a query or mutation. */
  execute(args: ExecutionArgs): Promise<ExecutionResult>;
  /**
   * Runs `plan` for `args`' operation with `services` in place of the gateway's (a subscription's event
   * replayed as its primary fetch) and shapes the answer. Each plan object is compiled once.
   */
  executePlan(plan: QueryPlan, args: ExecutionArgs, services: Readonly<Record<string, GraphQLDataSource<GatewayContext>>>): Promise<ExecutionResult>;
}

/**
 * The gateway's own query-plan executor, in place of @apollo/gateway's `executeQueryPlan`, with the same
 * answers: @apollo/query-planner plans each operation once; the plan is compiled once (what each fetch
 * selects for its representations, where its answer lands, how the response is shaped); a request then
 * sends its fetches through the same data sources (replica pools, fallbacks, hedging, deadlines),
 * merges each parsed answer in place and shapes the client's data in one walk.
 */
export function createPlanExecutor(options: PlanExecutorOptions): PlanExecutor {
  const { supergraph } = options;
  const apiSchema = supergraph.apiSchema();
  const planner = options.planner ?? new QueryPlanner(supergraph);
  const supergraphTypes = typeConditionsOf(options.supergraphSchema);
  const byDocument = new WeakMap<DocumentNode, Map<string, CompiledOperation>>();
  // Bounded in bytes too, as every cache keyed by client text is: a compiled operation grows with its
  // text (plan, fetch programs, shaping), so the text's size stands in for it, with a floor per entry.
  const byText = new LRUCache<string, CompiledOperation>({
    max: options.maxOperations ?? 1_000,
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (_operation, key) => 16 * key.length + 16 * 1024,
  });

  const compile = (document: DocumentNode, operationName: string | undefined): CompiledOperation => {
    const definition = getOperationAST(document, operationName);
    if (!definition) throw new GraphQLError(operationName ? `Unknown operation named "${operationName}".` : 'Must provide an operation.');
    const plan = planner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }));
    // The operation Apollo shapes with: built without validation from the operation and its fragments.
    const shapeOperation = operationFromDocument(
      apiSchema,
      { kind: Kind.DOCUMENT, definitions: [definition, ...document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)] },
      { validate: false },
    );
    const shape = compileResponseShape(shapeOperation);
    const compiled = plan.node?.kind === 'Subscription' ? undefined : compileFor(plan, shape);
    return { definition, plan, compiled, shape, introspection: new Map() };
  };
  const compileFor = (plan: QueryPlan, shape: ResponseShape) => compilePlan(plan, supergraphTypes, (run, variable) => conditionValue(run.variables, shape.defaults, variable));
  const eventPlans = new WeakMap<QueryPlan, CompiledPlan>();

  const operationOf = (args: ExecutionArgs): CompiledOperation => {
    const name = args.operationName ?? '';
    let named = byDocument.get(args.document);
    if (!named) byDocument.set(args.document, (named = new Map()));
    let operation = named.get(name);
    if (operation) return operation;
    // The same text parsed again (the parse cache is bounded): its plan is still good.
    const text = args.document.loc?.source.body;
    const key = text === undefined ? undefined : `${name}\n${text}`;
    operation = key === undefined ? undefined : byText.get(key);
    if (!operation) {
      operation = compile(args.document, args.operationName ?? undefined);
      if (key !== undefined) byText.set(key, operation);
    }
    named.set(name, operation);
    return operation;
  };

  const run = async (operation: CompiledOperation, compiled: CompiledPlan, args: ExecutionArgs, services: PlanRun['services']): Promise<ExecutionResult> => {
    const variables = (args.variableValues ?? undefined) as Record<string, unknown> | undefined;
    // As @apollo/gateway: the request's variables are checked before anything is fetched.
    const definitions = operation.definition.variableDefinitions;
    if (definitions?.length) {
      const { errors } = getVariableValues(args.schema, definitions, variables ?? {});
      if (errors) return { errors };
    }
    const context = args.contextValue as GatewayContext;
    const state: PlanRun = {
      variables,
      context,
      incomingRequestContext: { request: { variables }, context } as PlanRun['incomingRequestContext'],
      services,
      data: {},
      errors: [],
    };
    await compiled.run(state);
    let shaped: ReturnType<typeof shapeResponse>;
    try {
      shaped = shapeResponse(operation.shape, state.data, {
        variables,
        types: apiTypesOf(args.schema),
        introspect: (field) => introspect(args.schema, operation, field, variables),
      });
    } catch (error) {
      return { errors: [error instanceof GraphQLError ? error : new GraphQLError((error as Error).message, { originalError: error as Error })] };
    }
    // Shaping errors (a null in a non-null field...) are reported apart when the fetches had none, and
    // dropped when they had: a failed fetch leaves holes that would only repeat its error (Apollo's rule).
    if (state.errors.length === 0 && shaped.errors.length > 0) return { extensions: { valueCompletion: shaped.errors }, data: shaped.data };
    return state.errors.length === 0 ? { data: shaped.data } : { errors: state.errors as GraphQLError[], data: shaped.data };
  };

  return {
    execute(args) {
      // A span as @apollo/gateway's `gateway.plan`: traces look the same whichever executor runs.
      const operation = inSpan('gateway.plan', () => operationOf(args));
      if (!operation.compiled) throw new Error('Execution of subscriptions not supported by gateway');
      return run(operation, operation.compiled, args, options.services());
    },
    executePlan(plan, args, services) {
      const operation = operationOf(args);
      let compiled = eventPlans.get(plan);
      if (!compiled) eventPlans.set(plan, (compiled = compileFor(plan, operation.shape)));
      return run(operation, compiled, args, services);
    },
  };
}

const apiTypes = new WeakMap<GraphQLSchema, ReturnType<typeof typeConditionsOf>>();
/** Type conditions over the API schema a request was validated against (one per generation). */
function apiTypesOf(schema: GraphQLSchema) {
  let types = apiTypes.get(schema);
  if (!types) apiTypes.set(schema, (types = typeConditionsOf(schema)));
  return types;
}

/** A `Condition` node's variable: the request's value, else the operation's default (Apollo's `evaluateCondition`). */
function conditionValue(variables: Record<string, unknown> | undefined, defaults: Record<string, unknown>, variable: string): boolean {
  let value = variables && Object.hasOwn(variables, variable) ? variables[variable] : undefined;
  if (value === undefined) value = defaults[variable];
  if (typeof value !== 'boolean') throw new Error(`Invalid non-boolean value ${String(value)} for Boolean! variable $${variable}`);
  return value;
}

/** Runs one introspection field of the operation against the API schema, as @apollo/gateway does. */
function introspect(schema: GraphQLSchema, operation: CompiledOperation, field: ShapeField, variables: Record<string, unknown> | undefined): unknown {
  let document = operation.introspection.get(field);
  if (!document) {
    const node = field.node!;
    const used = new Set<string>();
    visit(node, { Variable: ({ name }) => void used.add(name.value) });
    document = {
      kind: Kind.DOCUMENT,
      definitions: [
        {
          kind: Kind.OPERATION_DEFINITION,
          operation: OperationTypeNode.QUERY,
          variableDefinitions: operation.definition.variableDefinitions?.filter((d) => used.has(d.variable.name.value)),
          selectionSet: { kind: Kind.SELECTION_SET, selections: [node] },
        },
      ],
    };
    operation.introspection.set(field, document);
  }
  const { data, errors } = executeSync({ schema, document, rootValue: {}, variableValues: variables });
  if (errors?.length || !data) throw new Error(`Introspection query for ${field.responseName} should not have failed`);
  return Object.hasOwn(data, field.responseName) ? data[field.responseName] : undefined;
}
