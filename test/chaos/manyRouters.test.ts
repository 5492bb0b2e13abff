import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecordedOperationsFromRedis } from '../../router/observability/operationRecorder.ts';
import { readBalancedServers, type BalancedServerState } from '../../scripts/haproxySettings.ts';
import { readAdminMetrics, sampleSum } from '../support/gatewayMetrics.ts';
import { bearer, postGraphQL, waitFor } from '../support/graphqlClient.ts';
import { readHaproxyAccessLog, type BalancedRequest } from '../support/haproxyAccessLog.ts';
import { placeOrder, startMixedLoad, type MixedLoadResult, type StreamOutcome } from '../support/mixedLoad.ts';
import { describeFailures, isCleanAnswer, sleep, type LoadSample } from '../support/steadyLoad.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// Issue 20: no single router. Two routers behind a real HAProxy, sharing their edge state through a
// real redis-server, under a steady load of queries, placeOrder mutations (each with its idempotency
// key) and chat streams read by a client that resumes with Last-Event-ID, as the chat page does:
// - a rolling restart (SIGTERM one router, start it again, then the next) fails no request and
//   loses or repeats no chunk: the draining router leaves HAProxy's rotation before it closes, and
//   ends its streams cleanly so their clients resume on the other one;
// - a SIGKILLed router fails at most what it had in flight, nothing once HAProxy marked it down;
// - a FREE-plan key sent to both routers gets its plan's limit once, not once per router.
// The figures the closing note asks for are printed at the end.

/**
 * HAProxy's checks, fast for the test (production: every 1 s, fall 2, rise 2, 2 s timeout; README). The
 * timeout stays above the router's own gateway probe (1 s), which a loaded 2-core machine may need.
 */
const CHECKS = { intervalMs: 200, fall: 2, rise: 2, timeoutMs: 1_500 };
const FREE_KEY = 'test-free-key-0123456789';
/** The FREE plan here: 20 requests a minute, so a burst of 60 meets it within one window. */
const FREE_LIMIT = 20;
const FREE_WINDOW_SECONDS = 60;
/** An article with stock for every order of the run. */
const PLENTY = 'a1';


let stack: TestStack;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  stack = await startTestStack({
    routers: 2,
    balancerChecks: CHECKS,
    balancerAccessLog: true,
    env: {
      DEMO_FREE_API_KEY: FREE_KEY,
      RATE_LIMIT_FREE: `${FREE_LIMIT}/${FREE_WINDOW_SECONDS}`,
      // Answers of about 100 chunks over 6 s: every fault below meets streams in the middle, and a
      // router's drain notice (under a second here) ends before the answers it holds.
      CHAT_TOKEN_INTERVAL_MS: '60',
      // One demo key stands in for every client: the per-caller stream limit is policy, not capacity.
      MAX_STREAMS_PER_CALLER: '1000',
      RECORD_OPERATIONS: 'on',
    },
  });
  const store = await stack.database.open();
  try {
    // Not what this file is about: the demo user's token quota and the article's stock would run out.
    await store.db.updateTable('quotas').set({ limit: 1_000_000_000, used: 0 }).where('user_id', '=', 'u1').execute();
    await store.db.updateTable('articles').set({ stock: 10_000_000 }).where('id', '=', PLENTY).execute();
  } finally {
    await store.close();
  }
}, 180_000);

afterAll(async () => {
  if (Object.keys(figures).length) console.info(`(many routers) figures for the closing note:\n${JSON.stringify(figures, null, 2)}`);
  await stack?.dispose();
});

const servers = () => readBalancedServers(stack.balancerStatsUrl!);
const accessLog = () => readHaproxyAccessLog(join(stack.dir, 'logs', 'haproxy.log'));
const routerUrl = (name: string) => `http://127.0.0.1:${stack.get(name).port}/graphql`;

async function serverState(name: string): Promise<BalancedServerState> {
  const state = (await servers()).find((s) => s.name === name);
  if (!state) throw new Error(`HAProxy does not balance ${name}`);
  return state;
}

async function openSubscriptions(name: string): Promise<number> {
  return sampleSum(await readAdminMetrics(stack, name), 'graphql_server_active_subscriptions');
}

/** Waits until HAProxy has `name` in rotation again (rise checks passed). */
async function waitUntilUp(name: string): Promise<void> {
  await waitFor(async () => (await serverState(name)).status === 'UP', 20_000, 50);
}

/** The router serves requests and streams now: what a fault must hit to mean anything. */
async function expectServing(name: string): Promise<{ subscriptions: number; sessions: number }> {
  let subscriptions = 0;
  let sessions = 0;
  await waitFor(async () => {
    subscriptions = await openSubscriptions(name);
    sessions = (await serverState(name)).current;
    return subscriptions > 0 && sessions > 0;
  }, 15_000, 50);
  return { subscriptions, sessions };
}

function streamsFigures(streams: StreamOutcome[]) {
  return {
    answers: streams.length,
    resumed: streams.filter((s) => s.reconnects > 0).length,
    chunks: streams.reduce((n, s) => n + s.events.filter((e) => e.payload.data?.chatStream).length, 0),
    lost: streams.reduce((n, s) => n + s.lost, 0),
    repeated: streams.reduce((n, s) => n + s.repeated, 0),
  };
}

function expectEveryStreamWhole(streams: StreamOutcome[]) {
  const broken = streams.filter((s) => !s.whole || s.lost || s.repeated);
  expect(
    broken.map((s) => ({ completed: s.completed, lost: s.lost, repeated: s.repeated, endings: s.endings, errors: s.events.flatMap((e) => e.payload.errors ?? []).slice(0, 2) })),
    'every answer arrives whole, each chunk once',
  ).toEqual([]);
}

describe('several routers behind HAProxy', () => {
  it('gives a FREE-plan key its plan limit once across both routers, through HAProxy and straight to each', async () => {
    const logFrom = accessLog().length;
    const paths = { haproxy: stack.routerUrl, 'router-0': routerUrl('router-0'), 'router-1': routerUrl('router-1') };
    const answers: Array<{ path: keyof typeof paths; status: number; code?: string }> = [];
    const started = Date.now();
    // 60 requests, 20 per path, interleaved in rounds of 6 at once: 3× the plan's limit.
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        (Object.keys(paths) as Array<keyof typeof paths>).flatMap((path) =>
          [0, 1].map(async () => {
            const { status, body } = await postGraphQL(paths[path], { query: '{ me { plan } }' }, bearer(FREE_KEY));
            answers.push({ path, status, code: body.errors?.[0]?.extensions?.code });
          }),
        ),
      );
    }
    const elapsedMs = Date.now() - started;
    const admitted = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.every((a) => a.code === 'RATE_LIMITED')).toBe(true);
    expect(admitted + limited.length).toBe(60);
    // GCRA: the plan's burst, plus what the emission interval (3 s) gave back while the rounds ran.
    const refill = Math.floor(elapsedMs / ((FREE_WINDOW_SECONDS * 1000) / FREE_LIMIT));
    expect(elapsedMs, 'the rounds fit in one window').toBeLessThan(FREE_WINDOW_SECONDS * 1000);
    expect(admitted).toBeGreaterThanOrEqual(FREE_LIMIT);
    expect(admitted).toBeLessThanOrEqual(FREE_LIMIT + refill);

    // Which router answered the ones through HAProxy: its access log (nothing else runs meanwhile).
    await sleep(300);
    const balanced = accessLog().slice(logFrom).filter((r) => r.request.startsWith('POST /graphql'));
    expect(balanced).toHaveLength(20);
    const perRouter: Record<string, { admitted: number; rateLimited: number }> = {};
    const count = (router: string, status: number) => {
      perRouter[router] ??= { admitted: 0, rateLimited: 0 };
      if (status === 200) perRouter[router].admitted++;
      else if (status === 429) perRouter[router].rateLimited++;
    };
    for (const request of balanced) count(`${request.server} (through HAProxy)`, request.status);
    for (const answer of answers.filter((a) => a.path !== 'haproxy')) count(`${answer.path} (straight)`, answer.status);
    // Both routers refused: the allowance they share ran out for both, not for one.
    expect(perRouter['router-0 (straight)'].rateLimited).toBeGreaterThan(0);
    expect(perRouter['router-1 (straight)'].rateLimited).toBeGreaterThan(0);
    figures.freePlan = { limit: `${FREE_LIMIT} per ${FREE_WINDOW_SECONDS} s`, sent: 60, admitted, rateLimited: limited.length, elapsedMs, perRouter };
  }, 60_000);

  it('shares persisted documents, key revocations and recorded operations between the routers', async () => {
    // APQ: registered through router-0, found by hash at router-1.
    const query = '{ articles(first: 1) { edges { node { id } } } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    const register = await postGraphQL(routerUrl('router-0'), { query, extensions: { persistedQuery } }, bearer(DEMO_KEY));
    expect(register.status).toBe(200);
    await waitFor(async () => (await postGraphQL(routerUrl('router-1'), { extensions: { persistedQuery } }, bearer(DEMO_KEY))).status === 200, 5_000, 50);

    // A key revoked through router-0 is refused by router-1 at once (pub/sub), not after its cache TTL (30 s).
    const created = await postGraphQL(routerUrl('router-0'), { query: 'mutation { createApiKey(label: "routers") { apiKey { id } secret } }' }, bearer(DEMO_KEY));
    const { apiKey, secret } = created.body.data!.createApiKey;
    expect((await postGraphQL(routerUrl('router-1'), { query: '{ me { id } }' }, bearer(secret))).status).toBe(200);
    const revokedAt = Date.now();
    const revoked = await postGraphQL(routerUrl('router-0'), { query: 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', variables: { id: apiKey.id } }, bearer(DEMO_KEY));
    expect(revoked.body.errors).toBeUndefined();
    await waitFor(async () => (await postGraphQL(routerUrl('router-1'), { query: '{ me { id } }' }, bearer(secret))).status === 401, 5_000, 20);
    const revocationMs = Date.now() - revokedAt;

    // Recorded operations: one sent only to router-0, one only to router-1, both in the one record.
    await postGraphQL(routerUrl('router-0'), { query: 'query OnlyAtRouterZero { models { id } }' }, bearer(DEMO_KEY));
    await postGraphQL(routerUrl('router-1'), { query: 'query OnlyAtRouterOne { models { name } }' }, bearer(DEMO_KEY));
    let names: Array<string | null> = [];
    await waitFor(async () => {
      names = (await readRecordedOperationsFromRedis(stack.env.REDIS_URL)).map((op) => op.name);
      return names.includes('OnlyAtRouterZero') && names.includes('OnlyAtRouterOne');
    }, 15_000, 250);
    figures.sharedState = { persistedDocuments: 'registered at router-0, served by hash at router-1', revocationReachedOtherRouterMs: revocationMs, recordedOperations: names.length };
  }, 60_000);

  it('fails no request and loses no chunk during a rolling restart of both routers', async () => {
    const run = `rolling-${Date.now()}`;
    const logFrom = accessLog().length;
    const load = startMixedLoad({ url: stack.routerUrl, apiKey: DEMO_KEY, run, articleId: PLENTY });
    const restarts: Array<Record<string, unknown>> = [];
    let result: MixedLoadResult;
    try {
      await waitFor(() => load.streams.length >= 4 && load.queries.count > 20, 30_000, 50);
      for (const name of stack.routers) {
        const serving = await expectServing(name);
        const stoppedAt = Date.now();
        await stack.kill(name, 'SIGTERM'); // resolves when the process has exited, drained
        const exitedAt = Date.now();
        const down = await serverState(name);
        await stack.restart(name);
        await waitUntilUp(name);
        restarts.push({ router: name, servingAtStop: serving, drainMs: exitedAt - stoppedAt, statusAtExit: down.status, backInRotationMs: Date.now() - exitedAt, window: [stoppedAt, exitedAt] });
        // The restarted router takes its share again before the next one goes.
        await waitFor(async () => (await openSubscriptions(name)) > 0, 15_000, 50);
      }
    } finally {
      result = await load.stop();
    }
    const failures = [...result.queries, ...result.orders].filter((s) => !isCleanAnswer(s));
    expect(failures.length, describeFailures(failures)).toBe(0);
    expectEveryStreamWhole(result.streams);

    // The drained routers' streams ended cleanly (no reset) and went on elsewhere: each restart
    // resumed some, and every resumption landed on the router that was not draining.
    const resumed = result.streams.filter((s) => s.reconnects > 0);
    expect(resumed.length, JSON.stringify(restarts)).toBeGreaterThan(0);
    expect(resumed.flatMap((s) => s.endings).filter((ending) => ending !== 'ended')).toEqual([]);
    const log = accessLog().slice(logFrom);
    const resumptions = log.filter((r) => r.lastEventId);
    expect(resumptions.length).toBeGreaterThanOrEqual(resumed.length);
    for (const restart of restarts) {
      const [from, to] = restart.window as [number, number];
      const landed = resumptions.filter((r) => r.acceptedAt >= from && r.acceptedAt <= to + 100);
      expect(landed.length, `streams of ${restart.router} resumed during its drain`).toBeGreaterThan(0);
      expect(landed.filter((r) => r.server === restart.router)).toEqual([]);
    }
    figures.rollingRestart = {
      requests: result.queries.length + result.orders.length,
      queries: result.queries.length,
      mutations: result.orders.length,
      failed: failures.length,
      streams: streamsFigures(result.streams),
      restarts: restarts.map(({ window: _window, ...rest }) => rest),
      balancerRetries: log.filter((r) => r.retries > 0).length,
    };
  }, 180_000);

  it('fails at most the requests in flight on a SIGKILLed router, none once HAProxy marked it down, and resumes its streams', async () => {
    const run = `kill-${Date.now()}`;
    const logFrom = accessLog().length;
    const load = startMixedLoad({ url: stack.routerUrl, apiKey: DEMO_KEY, run, articleId: PLENTY });
    let killedAt = 0;
    let downAt = 0;
    let victim = '';
    let atKill: { subscriptions: number; sessions: number } | undefined;
    let statusPoll: Promise<void> | undefined;
    let result: MixedLoadResult;
    try {
      await waitFor(() => load.streams.length >= 4 && load.queries.count > 20, 30_000, 50);
      // The router holding the most streams right now.
      const held = await Promise.all(stack.routers.map(async (name) => [name, await openSubscriptions(name)] as const));
      victim = held.sort((a, b) => b[1] - a[1])[0][0];
      await expectServing(victim);
      // What the victim holds at the kill, in HAProxy's count (requests and streams) and its own (streams).
      const [subscriptions, state] = await Promise.all([openSubscriptions(victim), serverState(victim)]);
      atKill = { subscriptions, sessions: state.current };
      killedAt = Date.now();
      // Watch HAProxy's verdict from the kill on, every 20 ms.
      statusPoll = (async () => {
        while (!downAt && Date.now() - killedAt < 20_000) {
          if ((await serverState(victim)).status.startsWith('DOWN')) downAt = Date.now();
          else await sleep(20);
        }
      })();
      await stack.kill(victim, 'SIGKILL');
      await statusPoll;
      expect(downAt, `HAProxy marked ${victim} down`).toBeGreaterThan(0);
      // The survivor carries the whole load for a while, then the victim comes back.
      const queriesAtDown = load.queries.count;
      await waitFor(() => load.queries.count > queriesAtDown + 50, 20_000, 50);
      await sleep(1_000);
      await stack.restart(victim);
      await waitUntilUp(victim);
      await sleep(1_000);
    } finally {
      result = await load.stop();
    }
    // A placeOrder that failed at the kill is sent again with its key, as a client does: one order each.
    const retried = await Promise.all(load.failedOrderKeys.map((key) => placeOrder(stack.routerUrl, DEMO_KEY, key, PLENTY)));
    expect(retried.filter((r) => r.status !== 200 || r.body.errors?.length)).toEqual([]);

    const failures = [...result.queries, ...result.orders].filter((s) => !isCleanAnswer(s));
    const afterDown = failures.filter((s) => s.startedAt > downAt);
    expect(afterDown.length, `failed after HAProxy marked ${victim} down:\n${describeFailures(afterDown)}`).toBe(0);
    // Each failure is the connection's (reset, or HAProxy's 502), never an answer from a router, and
    // was in flight when the victim died: sent before HAProxy knew, still open at the kill.
    const atTheConnection = (s: LoadSample) => s.status === 0 || s.status === 502;
    expect(failures.filter((s) => !atTheConnection(s)).map((s) => `${s.status} ${JSON.stringify(s.body).slice(0, 200)}`)).toEqual([]);
    expect(failures.filter((s) => s.startedAt + s.latencyMs < killedAt)).toEqual([]);
    const inFlightAtKill = [...result.queries, ...result.orders].filter((s) => s.startedAt <= killedAt && s.startedAt + s.latencyMs >= killedAt);
    expectEveryStreamWhole(result.streams);

    // What HAProxy saw: the streams the victim was sending when it died (cut: SD), and the requests
    // it went on sending to the victim until it knew (their connections refused: redispatched to the
    // survivor, not failed).
    const log: BalancedRequest[] = accessLog().slice(logFrom);
    const cutStreams = log.filter((r) => r.server === victim && r.termination.startsWith('SD') && r.acceptedAt <= killedAt + 50);
    expect(cutStreams.length, 'the kill cut streams in the middle').toBeGreaterThan(0);
    const redispatchedAfterKill = log.filter((r) => r.redispatched && r.acceptedAt >= killedAt - 50);
    const lastTriedAt = Math.max(killedAt, ...redispatchedAfterKill.map((r) => r.acceptedAt));
    const resumedOnSurvivor = log.filter((r) => r.lastEventId && r.acceptedAt >= killedAt && r.acceptedAt < downAt + 5_000);
    expect(resumedOnSurvivor.length).toBeGreaterThan(0);
    expect(resumedOnSurvivor.filter((r) => r.server === victim)).toEqual([]);
    const orderKeys = new Set(load.failedOrderKeys);
    figures.sigkill = {
      victim,
      inFlightAtKill: {
        requestsThroughHaproxy: inFlightAtKill.length,
        victimSessionsJustBefore: atKill!.sessions,
        victimStreamsJustBefore: atKill!.subscriptions,
        streamsCut: cutStreams.length,
      },
      failed: {
        total: failures.length,
        afterDown: afterDown.length,
        mutations: orderKeys.size,
        startedAfterKillMs: failures.map((f) => f.startedAt - killedAt),
        how: failures.map((f) => f.thrown ?? String(f.status)),
      },
      slowestRedispatchedMs: Math.max(0, ...redispatchedAfterKill.map((r) => r.activeMs)),
      markedDownAfterMs: downAt - killedAt,
      lastAttemptOnDeadRouterAfterMs: lastTriedAt - killedAt,
      redispatchedToSurvivor: redispatchedAfterKill.length,
      requests: result.queries.length + result.orders.length,
      streams: streamsFigures(result.streams),
    };
  }, 180_000);
});
