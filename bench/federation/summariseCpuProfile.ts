import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where the time went, in ms of samples (idle excluded) within the window asked for. */
export interface ProfileSummary {
  totalMs: number;
  /** Self time by package group (our code, graphql-js, @apollo/*, undici, …). */
  byGroup: Array<{ name: string; ms: number }>;
  /** Self time by function, heaviest first. */
  bySelf: Array<{ name: string; where: string; group: string; ms: number }>;
  /** Time with one of our functions on the stack (inclusive), heaviest first. */
  oursInclusive: Array<{ name: string; where: string; ms: number }>;
}

const GROUPS: Array<[RegExp, string]> = [
  [/^graphql$/, 'graphql-js'],
  [/^@apollo\/(gateway|query-planner|federation-internals|composition)$/, '@apollo/gateway + query planner'],
  [/^@apollo\/server$|^@apollo\/utils\./, '@apollo/server'],
  [/^(make-fetch-happen|minipass.*|agent-base|http-proxy-agent|https-proxy-agent|socks.*|@npmcli\/agent|cacache|ssri|node-fetch|lru-cache|@apollo\/utils\.fetcher)$/, 'Apollo fetcher stack (make-fetch-happen, minipass…)'],
  [/^undici$/, 'undici'],
  [/^(graphql-yoga|@graphql-yoga\/.*|@whatwg-node\/.*|@envelop\/.*)$/, 'yoga / whatwg-node / envelop'],
  [/^(@graphql-hive\/.*|@graphql-mesh\/.*|@graphql-tools\/.*)$/, 'Hive gateway / mesh / graphql-tools'],
  [/^pino.*$/, 'pino'],
];

/** Which package a script URL belongs to, and its group. */
export function groupOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return '(program: native, outside JS)';
  if (!url) return 'V8 builtins (JSON, RegExp, Array…)';
  if (url.startsWith('node:')) return 'node internals (http, streams, net…)';
  // The only WebAssembly in these processes is undici's HTTP parser (llhttp).
  if (url.startsWith('wasm://')) return 'undici';
  const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (!match) return 'our code';
  return GROUPS.find(([pattern]) => pattern.test(match[1]))?.[1] ?? match[1];
}

/** Resolves a bundle position (dist/router.js:line) to its source file through the bundle's source map. */
export function sourceResolver(): (url: string, line: number, column: number) => string {
  const maps = new Map<string, SourceMap | null>();
  return (url, line, column) => {
    if (!url.startsWith('file://') || url.includes('/node_modules/')) return `${url.replace(/^.*\/node_modules\//, '')}:${line + 1}`;
    if (!maps.has(url)) {
      try {
        maps.set(url, new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8'))));
      } catch {
        maps.set(url, null);
      }
    }
    const entry = maps.get(url)?.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource) return `${entry.originalSource.replace(/^.*?\.\.\//, '').replace(/^file:\/\/.*?\/wt-[^/]+\//, '')}:${(entry.originalLine ?? 0) + 1}`;
    return `${url.replace(/^.*\//, '')}:${line + 1}`;
  };
}

/**
 * Self time by function and by package, and our functions' inclusive time, from a V8 CPU profile,
 * counting only samples taken within [fromUs, toUs] (the profiled process's monotonic clock, the one
 * `process.hrtime` reads), so start-up and shut-down do not count.
 */
export function summariseCpuProfile(
  profile: CpuProfile,
  window: { fromUs?: number; toUs?: number } = {},
  where: (url: string, line: number, column: number) => string = (url, line) => `${url}:${line + 1}`,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i];
    const weight = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if ((window.fromUs !== undefined && time < window.fromUs) || (window.toUs !== undefined && time > window.toUs)) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + weight);
  }
  const groups = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; group: string; ms: number }>();
  const inclusive = new Map<string, { name: string; where: string; ms: number }>();
  let totalMs = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber, columnNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(root)') continue;
    totalMs += ms;
    const group = groupOf(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + ms);
    const at = url ? where(url, lineNumber, columnNumber) : '';
    const key = `${functionName}@${at}`;
    const entry = functions.get(key) ?? { name: functionName || '(anonymous)', where: at, group, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
    // Inclusive: each of our functions on this sample's stack once, however deep it recurses.
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const frame = byId.get(node)!.callFrame;
      if (!frame.url || groupOf(frame.url, frame.functionName) !== 'our code') continue;
      const ours = `${frame.functionName}@${where(frame.url, frame.lineNumber, frame.columnNumber)}`;
      if (seen.has(ours)) continue;
      seen.add(ours);
      const item = inclusive.get(ours) ?? { name: frame.functionName || '(anonymous)', where: where(frame.url, frame.lineNumber, frame.columnNumber), ms: 0 };
      item.ms += ms;
      inclusive.set(ours, item);
    }
  }
  const heaviest = <T extends { ms: number }>(items: Iterable<T>) => [...items].sort((a, b) => b.ms - a.ms);
  return {
    totalMs,
    byGroup: heaviest([...groups].map(([name, ms]) => ({ name, ms }))),
    bySelf: heaviest(functions.values()),
    oursInclusive: heaviest(inclusive.values()),
  };
}

/**
 * Bottom-up: the call paths (up to `depth` frames above) that lead to a function's self time, heaviest
 * first, as ms within the window. Answers "who allocates all those DOMExceptions".
 */
export function callersOf(
  profile: CpuProfile,
  functionName: string,
  window: { fromUs?: number; toUs?: number } = {},
  depth = 6,
  where: (url: string, line: number, column: number) => string = (url, line) => `${url}:${line + 1}`,
): Array<{ path: string[]; ms: number }> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const paths = new Map<string, { path: string[]; ms: number }>();
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i];
    if ((window.fromUs !== undefined && time < window.fromUs) || (window.toUs !== undefined && time > window.toUs)) continue;
    const id = profile.samples[i];
    if (byId.get(id)!.callFrame.functionName !== functionName) continue;
    const path: string[] = [];
    for (let node = parent.get(id); node !== undefined && path.length < depth; node = parent.get(node)) {
      const { functionName: name, url, lineNumber, columnNumber } = byId.get(node)!.callFrame;
      if (name === '(root)') break;
      path.push(`${name || '(anonymous)'} ${url ? where(url, lineNumber, columnNumber) : ''}`.trim());
    }
    const key = path.join(' ← ');
    const entry = paths.get(key) ?? { path, ms: 0 };
    entry.ms += (profile.timeDeltas[i + 1] ?? 0) / 1000;
    paths.set(key, entry);
  }
  return [...paths.values()].sort((a, b) => b.ms - a.ms);
}
