import type { PlanNode, QueryPlan, ResponsePath } from '@apollo/query-planner';
import { compileFetch, type PlanRun } from './compileFetch.ts';
import type { TypeConditions } from './typeConditions.ts';

type Data = Record<string, unknown>;
/** What a cursor points at: the root object, or the objects under a `Flatten` path (no nulls). */
type At = Data | Data[];

/** A plan node, compiled: runs against the objects its cursor points at. */
type Step = (run: PlanRun, at: At) => Promise<void>;

/** A query plan compiled once: `run` executes it for one request into `run.data`. */
export interface CompiledPlan {
  run(run: PlanRun): Promise<void>;
}

/** Reads a `Condition` node's variable for one request (the request's value, else its default). */
export type ConditionValue = (run: PlanRun, variable: string) => boolean;

/**
 * Compiles a query plan's nodes into nested closures, once per plan: each `Fetch` knows its
 * representation extractor, its rewrites and the path it answers at (Flatten paths are joined here,
 * not per request); `Sequence` runs in order, `Parallel` at once, `Condition` picks a branch by a
 * variable. A `Defer` (which the planner emits only when @defer is enabled, as our gateways do not)
 * runs its primary and then its deferred parts into the one answer. A fetch that throws records its
 * error and leaves the rest of the plan running, as Apollo's executor does.
 */
export function compilePlan(plan: QueryPlan, types: TypeConditions, conditionValue: ConditionValue): CompiledPlan {
  const compile = (node: PlanNode, path: ResponsePath): Step => {
    switch (node.kind) {
      case 'Fetch': {
        const fetch = compileFetch(node, path, types);
        return async (run, at) => {
          try {
            await fetch(run, at);
          } catch (error) {
            run.errors.push(error as Error);
          }
        };
      }
      case 'Sequence': {
        const steps = node.nodes.map((child) => compile(child, path));
        return async (run, at) => {
          for (const step of steps) await step(run, at);
        };
      }
      case 'Parallel': {
        const steps = node.nodes.map((child) => compile(child, path));
        return async (run, at) => {
          await Promise.all(steps.map((step) => step(run, at)));
        };
      }
      case 'Flatten': {
        const inner = compile(node.node, [...path, ...node.path]);
        const relative = node.path;
        return async (run, at) => {
          const objects: Data[] = [];
          collectAt(at, relative, 0, objects);
          // Nothing there (null parents, empty lists): the nested fetches have nothing to complete.
          if (objects.length > 0) await inner(run, objects);
        };
      }
      case 'Condition': {
        const ifStep = node.ifClause && compile(node.ifClause, path);
        const elseStep = node.elseClause && compile(node.elseClause, path);
        const variable = node.condition;
        return async (run, at) => {
          const step = conditionValue(run, variable) ? ifStep : elseStep;
          if (step) await step(run, at);
        };
      }
      case 'Defer': {
        const primary = node.primary.node && compile(node.primary.node, path);
        const deferred = node.deferred.flatMap((d) => (d.node ? [compile(d.node, path)] : []));
        return async (run, at) => {
          if (primary) await primary(run, at);
          await Promise.all(deferred.map((step) => step(run, at)));
        };
      }
    }
  };
  const root = plan.node;
  if (root?.kind === 'Subscription') throw new Error('Execution of subscriptions not supported by gateway');
  const step = root ? compile(root, []) : undefined;
  return { run: (run) => (step ? step(run, run.data) : Promise.resolve()) };
}

/**
 * @apollo/gateway's `flattenResultsAtPath`, collecting into one list: `@` expands a list, a field name
 * steps into an object, and what the path reaches lands in `out`, nulls left out (Apollo's fetch drops
 * them before sending, and a nested Flatten never starts from a list).
 */
function collectAt(value: unknown, path: ResponsePath, at: number, out: Data[]): void {
  if (value === undefined || value === null) return;
  if (at === path.length) {
    if (Array.isArray(value)) {
      for (const item of value) if (item !== undefined && item !== null) out.push(item as Data);
    } else {
      out.push(value as Data);
    }
    return;
  }
  const element = path[at];
  if (element === '@') {
    if (!Array.isArray(value)) throw new Error(`Expected a list at ${path.slice(0, at).join('.')}`);
    for (const item of value) collectAt(item, path, at + 1, out);
    return;
  }
  if (typeof element !== 'string') throw new Error(`Unexpected ${typeof element} found in path`);
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${element}`);
  const object = value as Data;
  collectAt(Object.hasOwn(object, element) ? object[element] : undefined, path, at + 1, out);
}
