import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import type { GraphQLDataSource } from '@apollo/gateway';
// Apollo's plan executor itself, as the subscription executor uses it (pinned with @apollo/gateway 2.14.x).
import { executeQueryPlan } from '@apollo/gateway/dist/executeQueryPlan.js';
import { buildOperationContext } from '@apollo/gateway/dist/operationContext.js';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { QueryPlanner } from '@apollo/query-planner';
import { buildSchema, parse, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { createPlanExecutor } from '../../supergraphs/execution/createPlanExecutor.ts';
import { BENCH_SHAPES, type BenchShape } from './benchShapes.ts';
import { FEDERATION } from './federationSettings.ts';

// `npm run bench:executor`: the two plan executors alone, in this process, without HTTP: each shape's
// query planned once, its fetches answered from answers recorded from the real subgraphs (parsed afresh
// per fetch, as a data source does: both executors merge into what they are given), then each executor
// run 2,000 times, twice, alternating. What it prints is the executor's own CPU per request; what the
// federation benchmark measures beyond it is HTTP, yoga and the data sources.
const RUNS = Number(process.env.BENCH_EXECUTOR_RUNS ?? 2_000);

async function measure(shape: BenchShape): Promise<void> {
  const subgraphs = await Promise.all(shape.subgraphs.map((name) => shape.startSubgraph(name, { memoise: true })));
  try {
    const urls = Object.fromEntries(shape.subgraphs.map((name, i) => [name, subgraphs[i].url]));
    const sdl = shape.compose(urls);
    const supergraph = Supergraph.build(sdl);
    const apiSchema = supergraph.apiSchema();
    const schema = apiSchema.toGraphQLJSSchema();
    const supergraphSchema = buildSchema(sdl, { assumeValidSDL: true });
    const planner = new QueryPlanner(supergraph);
    const recorded = new Map<string, string>();
    const services: Record<string, GraphQLDataSource> = Object.fromEntries(
      shape.subgraphs.map((name) => [
        name,
        {
          async process(options) {
            const body = JSON.stringify({ query: options.request.query, variables: options.request.variables });
            let text = recorded.get(`${name}\n${body}`);
            if (text === undefined) {
              const answer = await fetch(urls[name], { method: 'POST', headers: { 'content-type': 'application/json' }, body });
              recorded.set(`${name}\n${body}`, (text = await answer.text()));
            }
            return JSON.parse(text);
          },
        } satisfies GraphQLDataSource,
      ]),
    );
    const document = parse(shape.query);
    const args = { schema, document, variableValues: {}, contextValue: { principalHeaders: () => ({}) } } as unknown as ExecutionArgs;
    const ours = createPlanExecutor({ supergraph, supergraphSchema, planner, services: () => services });
    const plan = planner.buildQueryPlan(operationFromDocument(apiSchema, document, {}));
    const apollo = () => {
      const operationContext = buildOperationContext({ schema, operationDocument: document });
      const requestContext = { request: { query: shape.query, variables: {} }, context: args.contextValue, document, operation: operationContext.operation, operationName: null, metrics: {}, logger: console };
      return executeQueryPlan(plan, services, requestContext as unknown as GatewayGraphQLRequestContext, operationContext, supergraphSchema as unknown as GraphQLSchema, apiSchema);
    };
    const own = () => ours.execute(args);
    const [theirs, mine] = [JSON.stringify(await apollo()), JSON.stringify(await own())];
    console.log(`\n${shape.title}: ${recorded.size} fetches, ${mine.length} bytes, answers ${theirs === mine ? 'identical' : 'DIFFERENT'}`);
    const cpuMsPer = async (run: () => Promise<unknown>) => {
      for (let i = 0; i < RUNS / 10; i++) await run();
      const start = process.cpuUsage();
      for (let i = 0; i < RUNS; i++) await run();
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000 / RUNS;
    };
    const results: Record<string, number[]> = { apollo: [], own: [] };
    for (let round = 0; round < 2; round++) {
      results.apollo.push(await cpuMsPer(apollo));
      results.own.push(await cpuMsPer(own));
    }
    const texts = [...recorded.values()];
    const parseStart = process.cpuUsage();
    for (let i = 0; i < RUNS; i++) for (const text of texts) JSON.parse(text);
    const parseUsed = process.cpuUsage(parseStart);
    const best = (xs: number[]) => Math.min(...xs);
    console.log(`  Apollo's executeQueryPlan  ${best(results.apollo).toFixed(3)} CPU ms per request (best of 2 × ${RUNS})`);
    console.log(`  our plan executor          ${best(results.own).toFixed(3)} CPU ms per request  (${(best(results.apollo) / best(results.own)).toFixed(2)}× less)`);
    console.log(`  of which parsing the answers, the same for both: ${((parseUsed.user + parseUsed.system) / 1000 / RUNS).toFixed(3)} CPU ms`);
  } finally {
    await Promise.all(subgraphs.map((s) => s.close()));
  }
}

for (const key of FEDERATION.shapes) await measure(BENCH_SHAPES[key]);
