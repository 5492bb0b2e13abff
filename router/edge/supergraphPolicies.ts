import { GraphQLError, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { EdgeConfig } from '../../lib/config/edgeConfig.ts';
import { ErrorCode, operationLimitExceeded, rateLimited, unauthenticated } from '../../lib/errors.ts';
import type { Principal } from '../../lib/principal.ts';
import type { Topology } from '../../lib/topology/loadTopology.ts';
import { NO_COST_DIRECTIVES, type CostDirectives } from '../operationLimits/costDirectives.ts';
import { compileCost, type CostFormula } from '../operationLimits/costEstimate.ts';
import { maxAliasesRule } from '../operationLimits/maxAliasesRule.ts';
import { maxDepthRule } from '../operationLimits/maxDepthRule.ts';
import { maxDirectivesRule } from '../operationLimits/maxDirectivesRule.ts';
import { maxRootFieldsRule } from '../operationLimits/maxRootFieldsRule.ts';
import { retryAfterSeconds } from '../rateLimit/rateLimitHeaders.ts';
import type { RateLimiter, RatePolicy } from '../rateLimit/rateLimiter.ts';
import type { SubOperation } from '../splitOperation.ts';
import { ANONYMOUS } from './edgeRequest.ts';

/** Who may reach a supergraph: a caller with a valid key, anyone, or anyone as the anonymous caller. */
export type SupergraphAuth = 'required' | 'optional' | 'none';

/** One part of an operation as the policy sees it: its supergraph, document, variables, and who asks. */
export interface PolicyCheck {
  part: Pick<SubOperation, 'supergraph' | 'document' | 'variables' | 'operationName'>;
  principal: Principal;
  /** Whose allowance the caller spends (the caller stage's partition). */
  partition: string;
}

/** The supergraphs' own policies at the router (the topology's `policy`), each checked on its part alone. */
export interface SupergraphPolicies {
  /** The principal a part goes with: the anonymous one to a supergraph whose auth is `none`. */
  principalFor(supergraph: string, principal: Principal): Principal;
  /** Why this part may not go to its supergraph (an error with its code), or undefined. */
  refusal(check: PolicyCheck): Promise<GraphQLError | undefined>;
  /** True when some supergraph has a policy beyond the router-wide one: else nothing needs checking. */
  readonly any: boolean;
}

export interface SupergraphPoliciesOptions {
  topology: Topology;
  /** The router's public schema, parts are validated against. */
  schema: GraphQLSchema;
  /** The router-wide limits a supergraph's own ones default to. */
  limits: EdgeConfig['operationLimits'] & { maxDepth: number };
  costDirectives?: CostDirectives;
  /** @default none: per-supergraph rate plans are not enforced */
  limiter?: RateLimiter;
}

interface Resolved {
  auth: SupergraphAuth;
  /** Validation rules of its own limits, or none when it has none beyond the router-wide ones. */
  rules?: ValidationRule[];
  maxCost?: number;
  ratePlans?: Record<string, RatePolicy>;
}

/**
 * Each supergraph's auth, operation limits and rate plans, from the topology file, defaulting to the
 * router-wide settings (which the whole operation already met): identity and commerce are different
 * risks. Work that depends only on a part's document (validation, the cost formula) is done once
 * per document.
 */
export function createSupergraphPolicies(options: SupergraphPoliciesOptions): SupergraphPolicies {
  const { schema, limits, limiter } = options;
  const model = { ...limits, directives: options.costDirectives ?? NO_COST_DIRECTIVES };
  const resolved = new Map<string, Resolved>();
  for (const [name, supergraph] of Object.entries(options.topology.supergraphs)) {
    const policy = supergraph.policy ?? {};
    const own = policy.limits;
    const merged = { ...limits, ...own };
    resolved.set(name, {
      auth: policy.auth ?? 'optional',
      ...(own && (own.maxDepth || own.maxAliases || own.maxRootFields || own.maxDirectivesPerField)
        ? {
            rules: [
              maxDepthRule(merged.maxDepth),
              maxAliasesRule(merged.maxAliases),
              maxRootFieldsRule(merged.maxRootFields),
              maxDirectivesRule(merged.maxDirectivesPerField),
            ],
          }
        : {}),
      ...(own?.maxCost ? { maxCost: own.maxCost } : {}),
      ...(policy.rateLimits ? { ratePlans: ratePlansOf(name, policy.rateLimits) } : {}),
    });
  }
  const validated = new WeakMap<DocumentNode, GraphQLError | null>();
  const formulas = new WeakMap<DocumentNode, CostFormula>();

  return {
    any: [...resolved.values()].some((r) => r.auth !== 'optional' || r.rules || r.maxCost || r.ratePlans),
    principalFor: (supergraph, principal) => (resolved.get(supergraph)?.auth === 'none' ? ANONYMOUS : principal),
    async refusal({ part, principal, partition }) {
      const policy = resolved.get(part.supergraph);
      if (!policy) return undefined;
      if (policy.auth === 'required' && principal.userId === undefined) {
        return unauthenticated(`The ${part.supergraph} supergraph answers only callers with an API key: send one as "Authorization: Bearer <key>".`);
      }
      if (policy.rules) {
        let refused = validated.get(part.document);
        if (refused === undefined) validated.set(part.document, (refused = validate(schema, part.document, policy.rules)[0] ?? null));
        if (refused) return refused;
      }
      if (policy.maxCost !== undefined) {
        let formula = formulas.get(part.document);
        if (!formula) formulas.set(part.document, (formula = compileCost(schema, part.document, part.operationName, model)));
        const cost = formula(part.variables);
        if (cost > policy.maxCost) {
          return operationLimitExceeded(ErrorCode.COST_ESTIMATED_TOO_EXPENSIVE, `The ${part.supergraph} part's estimated cost is ${cost}; at most ${policy.maxCost} is allowed there.`, { limit: policy.maxCost, actual: cost });
        }
      }
      const plan = policy.ratePlans && (principal.userId === undefined ? policy.ratePlans.anonymous : policy.ratePlans[principal.plan ?? ''] ?? policy.ratePlans.default);
      if (plan && limiter) {
        const decision = await limiter.take(`${part.supergraph}|${partition}`, plan);
        if (!decision.allowed) return rateLimited(retryAfterSeconds(decision));
      }
      return undefined;
    },
  };
}

/** `{ FREE: "60/60" }` into the limiter's policies, named after the supergraph (what RateLimit-Policy shows). */
function ratePlansOf(supergraph: string, plans: Record<string, string>): Record<string, RatePolicy> {
  return Object.fromEntries(
    Object.entries(plans).map(([plan, spec]) => {
      const [limit, windowSeconds, burst] = spec.split('/').map(Number);
      return [plan, { name: `${supergraph}-${plan}`.toLowerCase(), limit, windowSeconds, ...(burst ? { burst } : {}) }];
    }),
  );
}

/** The refusal of a part, once per root field it owns, on that field's path. */
export function refusalOn(error: GraphQLError, key: string): GraphQLError {
  const { http: _status, ...extensions } = error.extensions as Record<string, unknown>;
  return new GraphQLError(error.message, { path: [key], extensions });
}
