import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { EdgeConfig } from '../../lib/config/edgeConfig.ts';
import { ErrorCode, operationLimitExceeded } from '../../lib/errors.ts';
import { refusedWith } from '../../lib/server/graphqlEndpoint.ts';
import { NO_COST_DIRECTIVES, type CostDirectives } from '../operationLimits/costDirectives.ts';
import { compileCost, type CostFormula } from '../operationLimits/costEstimate.ts';
import type { EdgeStage } from './edgeRequest.ts';

export interface LimitStagesOptions {
  /** The schema operations are estimated against (the router's public schema). */
  schema: GraphQLSchema;
  limits: EdgeConfig['operationLimits'];
  /** `@cost` / `@listSize` of the composed supergraphs. @default none */
  costDirectives?: CostDirectives;
}

/** What `extensions.cost` reports in dry-run mode. */
export interface CostReport {
  estimated: number;
  max: number;
  mode: 'dry-run';
  /** Whether `enforce` would have refused the operation. */
  exceeded: boolean;
}

/**
 * The edge's limits that are not validation rules (those, with the token limit, are the analysis
 * stage's), each refused with 400 and a code a client can act on before any gateway is called:
 * - `variables`, before parsing: the variables' size (MAX_VARIABLES_SIZE_LIMIT);
 * - `cost`, once the operation is valid: its estimated cost (COST_ESTIMATED_TOO_EXPENSIVE), a
 *   formula compiled once per document and evaluated with each request's variables, because list
 *   sizes come from them. In dry-run mode the estimate is reported in `extensions.cost` instead.
 * Own rules rather than graphql-armor's: its cost limit prices objects and scalars by depth with no
 * list sizes, arguments or variables, and its refusals do not carry Apollo Router's codes.
 */
export function createLimitStages({ schema, limits, costDirectives = NO_COST_DIRECTIVES }: LimitStagesOptions): { variables: EdgeStage; cost: EdgeStage } {
  const model = { ...limits, directives: costDirectives };
  // The analysis stage hands the same DocumentNode for the same text, so this is per document.
  const formulas = new WeakMap<DocumentNode, Map<string, CostFormula>>();
  const costOf = (document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown> | undefined): number => {
    let byOperation = formulas.get(document);
    if (!byOperation) formulas.set(document, (byOperation = new Map()));
    let formula = byOperation.get(operationName ?? '');
    if (!formula) byOperation.set(operationName ?? '', (formula = compileCost(schema, document, operationName, model)));
    return formula(variables ?? {});
  };
  return {
    variables(request) {
      const { variables } = request.params;
      if (variables == null) return undefined;
      const bytes = Buffer.byteLength(JSON.stringify(variables));
      if (bytes <= limits.maxVariablesBytes) return undefined;
      return refusedWith(
        operationLimitExceeded(ErrorCode.MAX_VARIABLES_SIZE_LIMIT, `The variables take ${bytes} bytes; at most ${limits.maxVariablesBytes} are allowed.`, {
          limit: limits.maxVariablesBytes,
          actual: bytes,
        }),
      );
    },
    cost(request) {
      if (limits.costMode === 'off') return undefined;
      const cost = costOf(request.document!, request.params.operationName, request.params.variables);
      const exceeded = cost > limits.maxCost;
      if (limits.costMode === 'enforce') {
        if (!exceeded) return undefined;
        return refusedWith(
          operationLimitExceeded(ErrorCode.COST_ESTIMATED_TOO_EXPENSIVE, `The operation's estimated cost is ${cost}; at most ${limits.maxCost} is allowed.`, {
            limit: limits.maxCost,
            actual: cost,
          }),
        );
      }
      // Subscriptions are only ever refused, never reported on.
      if (request.operation?.operation !== 'subscription') {
        request.extensions = { ...request.extensions, cost: { estimated: cost, max: limits.maxCost, mode: 'dry-run', exceeded } satisfies CostReport };
      }
      return undefined;
    },
  };
}
