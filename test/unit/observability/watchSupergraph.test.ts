import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSupergraphSource, watchSupergraph } from '../../../lib/server/watchSupergraph.ts';
import { copySchemaFolder, type SchemaFolderCopy } from '../../support/schemaFolderCopy.ts';

// A gateway watching a rover config: every subgraph file it names is watched and composed on change.
describe('watchSupergraph over a rover config', () => {
  let copy: SchemaFolderCopy;
  beforeEach(() => {
    copy = copySchemaFolder();
  });
  afterEach(() => copy.remove());

  it('applies a recomposition, and keeps the old one (reporting its codes) when composition fails', async () => {
    const source = { kind: 'rover', path: `${copy.root}/supergraphs/commerce/supergraph.yaml` } as const;
    const initial = readSupergraphSource(source);
    if (!initial.ok) throw new Error('the committed commerce supergraph must compose');
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const registry = new Registry();
    const applied: string[] = [];
    const watch = watchSupergraph({ sources: { commerce: source }, initial: { commerce: initial.sdl }, apply: async (sdls) => void applied.push(sdls.commerce), intervalMs: 60_000, registry, logger });
    try {
      await watch.check();
      expect(applied).toHaveLength(0); // nothing changed

      copy.edit('schema/orders.graphql', (sdl) => `${sdl}\nextend type Query { broken: NoSuchType }\n`);
      await watch.check();
      expect(applied).toHaveLength(0);
      expect(lines.find((l) => l.level === 50)).toMatchObject({ supergraph: 'commerce', errors: [expect.objectContaining({ code: 'INVALID_GRAPHQL' })] });
      expect(await registry.getSingleMetricAsString('supergraph_reloads_total')).toContain('supergraph_reloads_total{result="failed"} 1');

      copy.edit('schema/orders.graphql', (sdl) => sdl.replace('extend type Query { broken: NoSuchType }', 'extend type Query { ordersVersion: String }'));
      await watch.check();
      expect(applied).toHaveLength(1);
      expect(applied[0]).toContain('ordersVersion: String');
      expect(await registry.getSingleMetricAsString('supergraph_reloads_total')).toContain('supergraph_reloads_total{result="applied"} 1');
    } finally {
      watch.close();
    }
  });
});
