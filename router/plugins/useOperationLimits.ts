import { type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { EdgeConfig } from '../../lib/config/edgeConfig.ts';
import { ErrorCode, operationLimitExceeded } from '../../lib/errors.ts';
import { NO_COST_DIRECTIVES, type CostDirectives } from '../operationLimits/costDirectives.ts';
import { compileCost, type CostFormula } from '../operationLimits/costEstimate.ts';
import { maxAliasesRule } from '../operationLimits/maxAliasesRule.ts';
import { maxDirectivesRule } from '../operationLimits/maxDirectivesRule.ts';
import { maxRootFieldsRule } from '../operationLimits/maxRootFieldsRule.ts';

export interface OperationLimitsOptions {
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
 * The edge's operation limits, each refused with 400 and a code a client can act on before any
 * gateway is called (the depth limit is useMaxDepth's):
 * - tokens, while parsing (MAX_TOKENS_LIMIT): parsing stops at the limit, so a huge document
 *   costs little, and it bounds the work of every validation rule after it;
 * - aliases, root fields, directives per field, as validation rules (MAX_ALIASES_LIMIT,
 *   MAX_ROOT_FIELDS_LIMIT, MAX_DIRECTIVES_LIMIT): yoga caches parse and validation per document,
 *   so a repeated operation pays for none of them again;
 * - variables size (MAX_VARIABLES_SIZE_LIMIT), before parsing;
 * - estimated cost (COST_ESTIMATED_TOO_EXPENSIVE) at execution, because list sizes come from
 *   variables: the formula is compiled once per document and evaluated per request.
 * Own rules rather than graphql-armor's (@escape.tech/graphql-armor-*, envelop plugins too): its
 * cost limit prices objects and scalars by depth (objectCost, scalarCost, depthCostFactor) with no
 * list sizes, arguments or variables, and its refusals do not carry Apollo Router's codes; the
 * count rules here are a few lines each, fragment-expanded and memoised like the depth rule.
 */
export function useOperationLimits({ schema, limits, costDirectives = NO_COST_DIRECTIVES }: OperationLimitsOptions): Plugin {
  const rules = [maxAliasesRule(limits.maxAliases), maxRootFieldsRule(limits.maxRootFields), maxDirectivesRule(limits.maxDirectivesPerField)];
  const model = { ...limits, directives: costDirectives };
  // yoga hands the same DocumentNode for the same query text (its parse cache), so this is per document.
  const formulas = new WeakMap<DocumentNode, Map<string, CostFormula>>();
  const costOf = (document: DocumentNode, operationName: string | null | undefined, variables: unknown): number => {
    let byOperation = formulas.get(document);
    if (!byOperation) formulas.set(document, (byOperation = new Map()));
    let formula = byOperation.get(operationName ?? '');
    if (!formula) byOperation.set(operationName ?? '', (formula = compileCost(schema, document, operationName, model)));
    return formula((variables ?? {}) as Record<string, unknown>);
  };
  const tooExpensive = (cost: number) =>
    operationLimitExceeded(ErrorCode.COST_ESTIMATED_TOO_EXPENSIVE, `The operation's estimated cost is ${cost}; at most ${limits.maxCost} is allowed.`, {
      limit: limits.maxCost,
      actual: cost,
    });
  const withReport = (result: ExecutionResult, cost: number): ExecutionResult => ({
    ...result,
    extensions: { ...result.extensions, cost: { estimated: cost, max: limits.maxCost, mode: 'dry-run', exceeded: cost > limits.maxCost } satisfies CostReport },
  });

  return {
    onParams({ params }) {
      if (params.variables == null) return;
      const bytes = Buffer.byteLength(JSON.stringify(params.variables));
      if (bytes <= limits.maxVariablesBytes) return;
      throw operationLimitExceeded(ErrorCode.MAX_VARIABLES_SIZE_LIMIT, `The variables take ${bytes} bytes; at most ${limits.maxVariablesBytes} are allowed.`, {
        limit: limits.maxVariablesBytes,
        actual: bytes,
      });
    },
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parseFn(source, { ...options, maxTokens: limits.maxTokens });
        } catch (error) {
          // graphql-js 16 says "more that N tokens", 17 "more than". Matched by message, not class:
          // the parser's GraphQLError may come from another copy of graphql (vitest loads two).
          if (error instanceof Error && /contains more th(?:an|at) \d+ tokens/.test(error.message)) {
            throw operationLimitExceeded(ErrorCode.MAX_TOKENS_LIMIT, `The document has more than ${limits.maxTokens} tokens.`, { limit: limits.maxTokens });
          }
          throw error;
        }
      });
    },
    onResultProcess({ result }) {
      // yoga marks every parse error as a spec error (200 for `Accept: application/json`); the
      // token and nesting limits are not a client's syntax mistake, so they keep their 400 like the other limits.
      if (!result || typeof result !== 'object' || Symbol.asyncIterator in result || Array.isArray(result)) return;
      for (const error of (result as ExecutionResult).errors ?? []) {
        const http = error.extensions?.http as { spec?: boolean } | undefined;
        const code = error.extensions?.code;
        if ((code === ErrorCode.MAX_TOKENS_LIMIT || code === ErrorCode.MAX_DEPTH_LIMIT) && http) http.spec = false;
      }
    },
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
    },
    onExecute({ args, setResultAndStopExecution }) {
      if (limits.costMode === 'off') return;
      const cost = costOf(args.document, args.operationName, args.variableValues);
      if (limits.costMode === 'enforce') {
        if (cost > limits.maxCost) setResultAndStopExecution({ errors: [tooExpensive(cost)] });
        return;
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (result && !(Symbol.asyncIterator in result)) setResult(withReport(result as ExecutionResult, cost));
        },
      };
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (limits.costMode !== 'enforce') return;
      const cost = costOf(args.document, args.operationName, args.variableValues);
      if (cost > limits.maxCost) setResultAndStopExecution({ errors: [tooExpensive(cost)] });
    },
  };
}
