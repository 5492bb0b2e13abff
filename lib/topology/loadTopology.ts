import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { ConfigError } from '../config/configError.ts';
import type { FallbackPolicy } from '../fallback/staleIfError.ts';
import { composeFromRoverConfig } from './composeSupergraph.ts';
import { topologySchema, type SupergraphPolicyFile, type TopologyFile } from './topologySchema.ts';

/**
 * The reference deployment's topology, at the repository's root: found by walking up from this
 * module, which sits two folders deep as source and one as a bundle in dist/.
 */
export const DEFAULT_TOPOLOGY_FILE = findUpwards(import.meta.dirname, 'topology.yaml');

function findUpwards(from: string, name: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name))) return join(dir, name);
    if (dirname(dir) === dir) return join(from, name); // not found: the error will name this path
  }
}

/** One supergraph of a topology, its paths resolved. */
export interface SupergraphTopology {
  name: string;
  /** A composed supergraph SDL file, or a rover config composed at start (exactly one). */
  schemaFile?: string;
  roverConfig?: string;
  gateway: { port: number; adminPort: number };
  /** Gateway instance URLs, as the file gives them (the environment may override). */
  gateways: string[];
  fallback: FallbackPolicy;
  subgraphs: Record<string, { replicas?: string[]; fallback: FallbackPolicy; healthCheck?: string }>;
  /** Its auth, limits and rate plans at the router, as the file gives them (the router fills in its defaults). */
  policy: SupergraphPolicyFile;
}

/** What a router and its gateways serve: read from a topology file, not written in code. */
export interface Topology {
  /** The file it came from. */
  file: string;
  router: { port: number; adminPort: number };
  /** The supergraph resolving API keys, or undefined: auth is off and every caller is anonymous. */
  apiKeysSupergraph: string | undefined;
  supergraphs: Record<string, SupergraphTopology>;
}

/** Reads and validates a topology file; a bad one is a ConfigError naming the file and the key. */
export function loadTopology(file: string = DEFAULT_TOPOLOGY_FILE): Topology {
  const path = resolve(file);
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`TOPOLOGY_FILE ${path}: ${(error as Error).message}`);
  }
  const parsed = topologySchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid topology ${path}:\n  ${problems.join('\n  ')}`);
  }
  return fromFile(parsed.data, path);
}

function fromFile(topology: TopologyFile, path: string): Topology {
  const base = dirname(path);
  const supergraphs = Object.fromEntries(
    Object.entries(topology.supergraphs).map(([name, entry]) => [
      name,
      {
        name,
        ...(entry.schema ? { schemaFile: resolve(base, entry.schema) } : { roverConfig: resolve(base, entry.rover!) }),
        gateway: entry.gateway,
        gateways: entry.gateways ?? [`http://127.0.0.1:${entry.gateway.port}/graphql`],
        fallback: entry.fallback,
        subgraphs: entry.subgraphs,
        policy: entry.policy,
      } satisfies SupergraphTopology,
    ]),
  );
  return {
    file: path,
    router: topology.router,
    apiKeysSupergraph: topology.auth.apiKeys === 'none' ? undefined : topology.auth.apiKeys,
    supergraphs,
  };
}

const composed = new Map<string, string>();

/**
 * A supergraph's composed SDL: its file, or its rover config composed now (once per process). A
 * composition error is a ConfigError with the codes composition gave, as rover prints them.
 */
export function readSupergraphSdl(topology: Topology, name: string): string {
  const supergraph = topology.supergraphs[name];
  if (!supergraph) throw new ConfigError(`the topology ${topology.file} has no supergraph named "${name}"; it has ${Object.keys(topology.supergraphs).join(', ')}`);
  if (supergraph.schemaFile) {
    try {
      return readFileSync(supergraph.schemaFile, 'utf8');
    } catch (error) {
      throw new ConfigError(`supergraph ${name}: cannot read ${supergraph.schemaFile}: ${(error as Error).message}`);
    }
  }
  const config = supergraph.roverConfig!;
  let sdl = composed.get(config);
  if (sdl === undefined) {
    const outcome = composeFromRoverConfig(config);
    if (!outcome.ok) throw new ConfigError(`supergraph ${name}: ${config} does not compose:\n  ${outcome.errors.map((e) => `${e.code}: ${e.message}`).join('\n  ')}`);
    composed.set(config, (sdl = outcome.supergraphSdl));
  }
  return sdl;
}

/** Where a supergraph's SDL comes from: its composed file, or a rover config composed on each change. */
export type SupergraphSource = { kind: 'sdl'; path: string } | { kind: 'rover'; path: string };

/** What a gateway or router watches for a supergraph, as its topology names it. */
export function supergraphSourceOf(topology: Topology, name: string): SupergraphSource {
  const supergraph = topology.supergraphs[name];
  if (!supergraph) throw new ConfigError(`the topology ${topology.file} has no supergraph named "${name}"`);
  return supergraph.schemaFile ? { kind: 'sdl', path: supergraph.schemaFile } : { kind: 'rover', path: supergraph.roverConfig! };
}

/** Every subgraph name of a topology, with the supergraph it belongs to. */
export function subgraphsOf(topology: Topology): Array<{ supergraph: string; subgraph: string }> {
  return Object.values(topology.supergraphs).flatMap((s) => Object.keys(s.subgraphs).map((subgraph) => ({ supergraph: s.name, subgraph })));
}

/** A supergraph's name, as its topology gives it. */
export type SupergraphName = string;

/**
 * The port replica `index` of a subgraph listens on by default: the port of its `index`-th replica
 * URL in the topology, or the first one's plus `index` past the list. Undefined when the topology
 * does not name the subgraph or gives it no replica URLs.
 */
export function replicaPortOf(topology: Topology, subgraph: string, index: number): number | undefined {
  const replicas = Object.values(topology.supergraphs).find((s) => s.subgraphs[subgraph])?.subgraphs[subgraph].replicas;
  if (!replicas?.length) return undefined;
  const portOf = (url: string) => Number(new URL(url.replace(/^dns\+/, '')).port || 80);
  return index < replicas.length ? portOf(replicas[index]) : portOf(replicas[0]) + index;
}
