import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMPOSITION_TARGETS, PUBLIC_SCHEMA_FILE, composeFromRoverConfig, printRouterSchema } from '../../../scripts/composeSupergraphs.ts';

describe('composition', () => {
  for (const target of COMPOSITION_TARGETS) {
    it(`the committed ${target.output} is exactly what \`npm run compose\` produces from ${target.config}`, () => {
      const outcome = composeFromRoverConfig(target.config);
      expect(outcome.ok ? 'ok' : outcome.errors).toBe('ok');
      if (outcome.ok) expect(readFileSync(target.output, 'utf8')).toBe(outcome.supergraphSdl);
    });
  }

  it(`the committed ${PUBLIC_SCHEMA_FILE} is the router's public schema of the committed supergraphs`, () => {
    const sdl = (name: string) => readFileSync(`schema/${name}.supergraph.graphql`, 'utf8');
    expect(readFileSync(PUBLIC_SCHEMA_FILE, 'utf8')).toBe(printRouterSchema({ identity: sdl('identity'), commerce: sdl('commerce') }));
  });

  it('rover.yaml names every subgraph of both supergraph configs, with the same routing URLs and files', () => {
    const all = YAML.parse(readFileSync('rover.yaml', 'utf8')).subgraphs;
    const parts = ['supergraphs/identity/supergraph.yaml', 'supergraphs/commerce/supergraph.yaml'].map(
      (file) => YAML.parse(readFileSync(file, 'utf8')).subgraphs,
    );
    const merged = Object.assign({}, ...parts);
    expect(Object.keys(all).sort()).toEqual(Object.keys(merged).sort());
    for (const [name, subgraph] of Object.entries<{ routing_url: string; schema: { file: string } }>(merged)) {
      expect(all[name].routing_url).toBe(subgraph.routing_url);
      expect(all[name].schema.file.replace('./', '')).toBe(subgraph.schema.file.replace('../../', ''));
    }
  });

  it('reports composition errors with their codes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    try {
      writeFileSync(join(dir, 'a.graphql'), 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { thing: Int }');
      writeFileSync(join(dir, 'b.graphql'), 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { thing: String }');
      writeFileSync(
        join(dir, 'rover.yaml'),
        'federation_version: =2.14.4\nsubgraphs:\n  a:\n    routing_url: http://a\n    schema:\n      file: ./a.graphql\n  b:\n    routing_url: http://b\n    schema:\n      file: ./b.graphql\n',
      );
      const outcome = composeFromRoverConfig(join(dir, 'rover.yaml'));
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.errors.map((e) => e.code)).toContain('INVALID_FIELD_SHARING');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
