import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { createGateway, type Gateway } from '../../../supergraphs/createGateway.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';

// The dashboard only charts what the components export: every metric its queries name is in the
// router's or a gateway's /metrics.
const dashboard = JSON.parse(readFileSync(new URL('../../../ops/grafana/supergraph.json', import.meta.url), 'utf8')) as {
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
};
const FUNCTIONS = new Set(['histogram_quantile', 'rate', 'increase', 'sum', 'max', 'by']);
const SECRET = 'dashboard-test-secret-0123456789';
const silent = pino({ level: 'silent' });
let router: Router | undefined;
let gateway: Gateway | undefined;
afterAll(async () => {
  await router?.close();
  await gateway?.close();
});

function metricsNamedIn(expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, '').replace(/by \([^)]*\)/g, '').replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/[a-z_][a-z0-9_]*/g)].map((m) => m[0]).filter((word) => word.includes('_') && !FUNCTIONS.has(word));
}

async function exported(): Promise<Set<string>> {
  router = createRouter({ config: loadConfig({}), internalSecret: SECRET, logger: silent });
  gateway = await createGateway({ name: 'commerce', config: loadConfig({}), internalSecret: SECRET, logger: silent });
  const routerAdmin = await router.listenAdmin(0, '127.0.0.1');
  const gatewayAdmin = await gateway.listenAdmin(0, '127.0.0.1');
  const names = new Set<string>();
  for (const url of [routerAdmin.url, gatewayAdmin.url]) {
    const text = await fetch(`${url}/metrics`).then((r) => r.text());
    for (const match of text.matchAll(/^# TYPE (\S+) (\S+)/gm)) {
      names.add(match[1]);
      if (match[2] === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${match[1]}${suffix}`);
    }
  }
  return names;
}

describe('the Grafana dashboard', () => {
  it('charts only metrics the router and gateways export', async () => {
    const names = await exported();
    const charted = dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricsNamedIn(target.expr).map((metric) => ({ panel: panel.title, metric }))));
    expect(charted.length).toBeGreaterThan(20);
    expect(charted.filter(({ metric }) => !names.has(metric))).toEqual([]);
    for (const required of ['http_server_request_duration_seconds_count', 'http_client_request_duration_seconds_bucket', 'upstream_failures_answered_total', 'upstream_breaker_state', 'upstream_replica_healthy', 'cache_lookups_total']) {
      expect(charted.map((c) => c.metric)).toContain(required);
    }
  });
});
