import { describe, expect, it } from 'vitest';
import { callersOf, groupOf, summariseCpuProfile, type CpuProfile } from '../../../bench/federation/summariseCpuProfile.ts';

// The profile summary the federation benchmark prints: by package, by function, our inclusive time,
// only within the loaded window.
const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 }, children });
const OURS = 'file:///repo/dist/gateway.js';
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 5, 6]),
    frame(2, 'process', OURS, [3, 4]),
    frame(3, 'request', 'file:///repo/node_modules/undici/lib/api/api-request.js'),
    frame(4, 'parse', 'file:///repo/node_modules/graphql/language/parser.js'),
    frame(5, '(garbage collector)', ''),
    frame(6, '(idle)', ''),
  ],
  startTime: 1_000,
  endTime: 9_000,
  // Samples 1 ms apart; each weighs the interval to the next one.
  samples: [3, 3, 4, 2, 5, 6, 3, 3],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('summariseCpuProfile', () => {
  it('groups self time by package and leaves idle out', () => {
    const summary = summariseCpuProfile(profile);
    expect(summary.totalMs).toBe(6); // the last sample has no interval after it; idle does not count
    expect(Object.fromEntries(summary.byGroup.map((g) => [g.name, g.ms]))).toEqual({ undici: 3, 'graphql-js': 1, 'our code': 1, GC: 1 });
    expect(summary.bySelf[0]).toMatchObject({ name: 'request', group: 'undici', ms: 3 });
  });

  it('counts our functions inclusively, whatever runs under them', () => {
    expect(summariseCpuProfile(profile).oursInclusive).toEqual([{ name: 'process', where: `${OURS}:1`, ms: 5 }]);
  });

  it('counts only samples within the window', () => {
    // Samples at 1000, 2000, …: the window [2500, 4500] holds those at 3000 (parse) and 4000 (process).
    const summary = summariseCpuProfile(profile, { fromUs: 2_500, toUs: 4_500 });
    expect(summary.totalMs).toBe(2);
    expect(summary.bySelf.map((f) => f.name).sort()).toEqual(['parse', 'process']);
  });

  it('finds the call paths behind a function', () => {
    expect(callersOf(profile, 'request')).toEqual([{ path: [`process ${OURS}:1`], ms: 3 }]);
  });

  it('names packages, scoped ones included', () => {
    expect(groupOf('file:///x/node_modules/@apollo/gateway/dist/index.js', 'f')).toBe('@apollo/gateway + query planner');
    expect(groupOf('file:///x/node_modules/@whatwg-node/server/esm/utils.js', 'f')).toBe('yoga / whatwg-node / envelop');
    expect(groupOf('file:///x/node_modules/agent-base/dist/index.js', 'f')).toBe('Apollo fetcher stack (make-fetch-happen, minipass…)');
    expect(groupOf('file:///x/node_modules/cockatiel/dist/x.js', 'f')).toBe('cockatiel');
    expect(groupOf('node:_http_server', 'f')).toBe('node internals (http, streams, net…)');
    expect(groupOf('', 'stringify')).toBe('V8 builtins (JSON, RegExp, Array…)');
  });
});
