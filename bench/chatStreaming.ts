import { readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';
import { Agent, request } from 'undici';
import { PRINCIPAL_HEADER, signPrincipal } from '../lib/principal.ts';
import { launchScratchStack, type ScratchStack } from '../scripts/launchScratchStack.ts';
import { percentile } from '../test/support/steadyLoad.ts';
import { BENCH } from './benchSettings.ts';
import { median } from './measureLoad.ts';

// `npm run bench` (streamed chat): time to first chunk and the gap between chunks through the router
// against the same stream straight from a chat replica, interleaved over rounds; then the memory per
// open stream of the router and of the commerce gateway with 1,000, 5,000 and 10,000 idle streams, and
// how many of them failed to open. The open-stream and quota limits are lifted as this bench's
// settings (MAX_STREAMS_PER_CALLER, the demo user's quota row), not the product's defaults.
const KEY = BENCH.demoApiKey;
const ROUNDS = BENCH.rounds;
const STREAMS_PER_ROUND = Number(process.env.BENCH_CHAT_STREAMS ?? 20);
const IDLE_COUNTS = (process.env.BENCH_IDLE_STREAMS ?? '1000,5000,10000').split(',').map(Number);
const streams = new Agent({ connections: null, keepAliveTimeout: 10_000, bodyTimeout: 0 });
const SUBSCRIPTION = 'subscription($p: String!) { chatStream(input: { prompt: $p }) { index delta done } }';

/** Lifts the demo user's token allowance so thousands of answers can be reserved at once. */
async function unlimitedQuota(stack: ScratchStack): Promise<void> {
  const store = await stack.database.open();
  try {
    await store.db.updateTable('quotas').set({ limit: 1_000_000_000, used: 0 }).where('user_id', '=', 'u1').execute();
  } finally {
    await store.close();
  }
}

/** One stream read to its end (or to its first chunk): ms to the first chunk, and between consecutive chunks. */
async function timeStream(url: string, headers: Record<string, string>, prompt: string, firstChunkOnly = false): Promise<{ firstMs: number; gapsMs: number[] }> {
  const started = performance.now();
  const response = await request(url, {
    method: 'POST',
    dispatcher: streams,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query: SUBSCRIPTION, variables: { p: prompt } }),
  });
  const arrivals: number[] = [];
  const parser = createParser({ onEvent: (event) => event.event === 'next' && arrivals.push(performance.now()) });
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
    if (firstChunkOnly && arrivals.length) break; // leaving the loop closes the stream
  }
  if (!arrivals.length) throw new Error(`no chunk from ${url} (${response.statusCode})`);
  return { firstMs: arrivals[0] - started, gapsMs: arrivals.slice(1).map((t, i) => t - arrivals[i]) };
}

function rssKiB(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return match ? Number(match[1]) : NaN;
}

async function latency(): Promise<void> {
  const stack = await launchScratchStack({ demoApiKey: KEY, env: { MAX_STREAMS_PER_CALLER: '100000' } });
  try {
    await unlimitedQuota(stack);
    const direct = `http://127.0.0.1:${stack.get('chat-0').port}/graphql`;
    const asDemoUser = () => ({ [PRINCIPAL_HEADER]: signPrincipal({ userId: 'u1', scopes: ['chat'] }, stack.env.INTERNAL_SECRET) });
    const gateway = `http://127.0.0.1:${stack.get('gateway-commerce').port}/graphql`;
    const targets = {
      'chat replica direct': () => ({ url: direct, headers: asDemoUser() }),
      'gateway → chat': () => ({ url: gateway, headers: asDemoUser() }),
      'router → gateway → chat': () => ({ url: stack.routerUrl, headers: { authorization: `Bearer ${KEY}` } }),
    };
    const rounds: Record<string, Array<{ first: number[]; gaps: number[] }>> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    let n = 0;
    for (const target of Object.values(targets)) await timeStream(target().url, target().headers, `warm-up ${n++}`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, target] of Object.entries(targets)) {
        const first: number[] = [];
        const gaps: number[] = [];
        // One stream at a time, fresh prompts: no prompt-cache hit, nothing queued behind another stream.
        for (let i = 0; i < STREAMS_PER_ROUND; i++) {
          const { url, headers } = target();
          const timing = await timeStream(url, headers, `bench ${round}-${i}-${n++}: what does a router add?`);
          first.push(timing.firstMs);
          gaps.push(...timing.gapsMs);
        }
        rounds[name].push({ first, gaps });
      }
    }
    console.log(`\nstreamed chat — ${ROUNDS} rounds × ${STREAMS_PER_ROUND} streams one at a time, CHAT_TOKEN_INTERVAL_MS 20, medians of rounds`);
    console.log('path                       first chunk p50/p99 ms   gap p50/p99 ms');
    const summary: Record<string, { firstP50: number; firstP99: number; gapP50: number; gapP99: number }> = {};
    for (const [name, results] of Object.entries(rounds)) {
      summary[name] = {
        firstP50: median(results.map((r) => percentile(r.first, 50))),
        firstP99: median(results.map((r) => percentile(r.first, 99))),
        gapP50: median(results.map((r) => percentile(r.gaps, 50))),
        gapP99: median(results.map((r) => percentile(r.gaps, 99))),
      };
      const s = summary[name];
      console.log(`${name.padEnd(26)} ${s.firstP50.toFixed(2).padStart(9)} / ${s.firstP99.toFixed(2).padEnd(9)} ${s.gapP50.toFixed(2).padStart(8)} / ${s.gapP99.toFixed(2)}`);
    }
    const [d, g, r] = [summary['chat replica direct'], summary['gateway → chat'], summary['router → gateway → chat']];
    console.log(`  first chunk: the router adds ${(r.firstP50 - g.firstP50).toFixed(2)} ms p50 to the gateway path (issue 18: < 1 ms); router + gateway add ${(r.firstP50 - d.firstP50).toFixed(2)} ms (${(r.firstP50 / d.firstP50).toFixed(2)}×), p99 ${(r.firstP99 / d.firstP99).toFixed(2)}×`);
    console.log(`  chunk gap:   router path ÷ direct p50 ${(r.gapP50 / d.gapP50).toFixed(2)}×, p99 ${(r.gapP99 / d.gapP99).toFixed(2)}×`);
  } finally {
    await stack.dispose();
  }
}

async function idleMemory(): Promise<void> {
  // A token a minute: streams stay open and quiet while the memory is read.
  const stack = await launchScratchStack({ demoApiKey: KEY, env: { CHAT_TOKEN_INTERVAL_MS: '60000', MAX_STREAMS_PER_CALLER: '100000' } });
  const open: Array<{ abort: AbortController }> = [];
  const failures = new Map<string, number>();
  let attempts = 0;
  try {
    await unlimitedQuota(stack);
    const pids = { router: stack.get('router').pid!, 'gateway-commerce': stack.get('gateway-commerce').pid! };
    await timeStream(stack.routerUrl, { authorization: `Bearer ${KEY}` }, 'warm-up', true).catch(() => undefined);
    const baseline = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, rssKiB(pid)]));
    console.log(`\nmemory per open stream (idle SSE streams through the router, one token a minute); RSS before: ${Object.entries(baseline).map(([n, kib]) => `${n} ${(kib / 1024).toFixed(1)} MiB`).join(', ')}`);
    for (const target of IDLE_COUNTS) {
      // Opened in bursts of 250 at once; a stream that fails to open is counted, not retried.
      while (attempts < target) {
        const batch = Array.from({ length: Math.min(250, target - attempts) }, async (_, i) => {
          const abort = new AbortController();
          try {
            const response = await request(stack.routerUrl, {
              method: 'POST',
              dispatcher: streams,
              signal: abort.signal,
              headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${KEY}` },
              body: JSON.stringify({ query: SUBSCRIPTION, variables: { p: `idle ${attempts + i}` } }),
            });
            if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${(await response.body.text()).slice(0, 120)}`);
            response.body.on('error', () => {});
            response.body.resume();
            return { abort };
          } catch (error) {
            const reason = (error as Error).message.slice(0, 160);
            failures.set(reason, (failures.get(reason) ?? 0) + 1);
            return undefined;
          }
        });
        attempts += batch.length;
        for (const stream of await Promise.all(batch)) if (stream) open.push(stream);
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the opening's garbage go
      const failed = attempts - open.length;
      const per = Object.entries(pids).map(([name, pid]) => {
        const rss = rssKiB(pid);
        return `${name} RSS ${(rss / 1024).toFixed(1)} MiB, ${((rss - baseline[name]) / open.length).toFixed(1)} KiB per stream`;
      });
      console.log(`  ${String(target).padStart(5)} streams (${open.length} open, ${failed} failed to open): ${per.join('; ')}`);
    }
    for (const [reason, count] of failures) console.log(`    failed to open ×${count}: ${reason}`);
  } finally {
    for (const stream of open) stream.abort.abort();
    await stack.dispose();
  }
}

await latency();
await idleMemory();
await streams.close();
