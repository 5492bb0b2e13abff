import { BENCH_SHAPES, isShapeKey } from './benchShapes.ts';

// The federation benchmark's subgraphs for one query shape (BENCH_SHAPE: demo or guild), one process for
// all four (pinned with the load generator, away from the target): memoised, so each answer costs a
// lookup and the gateway in front is what is measured. Answers `{ type: 'count' }` with the requests
// all four have received so far.
const key = process.env.BENCH_SHAPE ?? 'demo';
if (!isShapeKey(key)) throw new Error(`BENCH_SHAPE=${key}: not one of ${Object.keys(BENCH_SHAPES).join(', ')}`);
const shape = BENCH_SHAPES[key];
const subgraphs = await Promise.all(shape.subgraphs.map((name) => shape.startSubgraph(name, { memoise: true })));
const urls = Object.fromEntries(shape.subgraphs.map((name, i) => [name, subgraphs[i].url]));

process.on('message', (message: { type?: string }) => {
  if (message?.type === 'count') process.send!({ type: 'count', requests: subgraphs.reduce((n, s) => n + s.requests(), 0) });
});
process.on('disconnect', () => void Promise.all(subgraphs.map((s) => s.close())).finally(() => process.exit(0)));
process.send!({ type: 'ready', urls });
