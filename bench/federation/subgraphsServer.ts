import { DEMO_SUBGRAPHS, startDemoSubgraph, type DemoSubgraphName } from './demoSubgraphs.ts';

// The federation benchmark's subgraphs, one process for all four (pinned with the load generator, away
// from the target): memoised, so each answer costs a lookup and the gateway in front is what is measured.
// Answers `{ type: 'count' }` with the requests all four have received so far.
const subgraphs = await Promise.all(DEMO_SUBGRAPHS.map((name) => startDemoSubgraph(name, { memoise: true })));
const urls = Object.fromEntries(DEMO_SUBGRAPHS.map((name, i) => [name, subgraphs[i].url])) as Record<DemoSubgraphName, string>;

process.on('message', (message: { type?: string }) => {
  if (message?.type === 'count') process.send!({ type: 'count', requests: subgraphs.reduce((n, s) => n + s.requests(), 0) });
});
process.on('disconnect', () => void Promise.all(subgraphs.map((s) => s.close())).finally(() => process.exit(0)));
process.send!({ type: 'ready', urls });
