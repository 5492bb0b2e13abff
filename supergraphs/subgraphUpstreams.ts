import type { Logger } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import type { Config } from '../lib/config.ts';
import { PRINCIPAL_HEADER, PRINCIPAL_TOKEN_REUSE_MS, signPrincipal } from '../lib/principal.ts';
import { createUpstream, type Upstream } from '../lib/upstream/createUpstream.ts';
import type { HealthProbe } from '../lib/upstream/healthChecker.ts';
import { multiplexedTransport } from '../lib/upstream/multiplexedTransport.ts';
import { RetryBudget } from '../lib/upstream/retryBudget.ts';
import { STREAM_DISPATCHER, http1Transport } from '../lib/upstream/upstreamTransport.ts';

export interface SubgraphUpstreamsOptions {
  /** The supergraph's name, for its topology entry and logs. */
  supergraph: string;
  config: Config;
  /** Signs the anonymous marker the `{ __typename }` health probe carries. */
  internalSecret: string;
  /** Replica URLs by subgraph. @default config.gateway.subgraphUrls, else the routing URL the supergraph names */
  subgraphUrls?: Readonly<Record<string, readonly string[]>>;
  logger: Logger;
}

/** How a gateway makes the replica pool of each subgraph, and what those pools share. */
export interface SubgraphUpstreams {
  /** Replica pools by subgraph; a supergraph generation naming a new subgraph adds its pool here. */
  upstreams: Record<string, Upstream>;
  /** Makes the pool of a subgraph the gateway has none for yet (its routing URL is the default replica). */
  create(subgraph: string, routingUrl: string | undefined): Upstream;
  /** Closes every pool and their connections; idempotent. */
  close(): Promise<void>;
}

/**
 * The subgraph side of a gateway: one replica pool per subgraph (health checks, outlier ejection,
 * breaker, hedging, deadlines), over one transport (HTTP/2 where a replica speaks it, else HTTP/1.1
 * on one keep-alive dispatcher) and one retry budget shared by all, each probed the way its
 * topology entry says.
 */
export function createSubgraphUpstreams(options: SubgraphUpstreamsOptions): SubgraphUpstreams {
  const { supergraph, config, logger } = options;
  const configuredUrls = config.gateway.subgraphUrls as Readonly<Record<string, readonly string[] | undefined>>;
  const dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 256, allowH2: true });
  // HTTP/2 to every replica that speaks it (ours do): a few connections per replica carry all calls and streams.
  const transport = config.resilience.upstreamProtocol === 'http1' ? http1Transport(dispatcher, STREAM_DISPATCHER) : multiplexedTransport({ http1: http1Transport(dispatcher, STREAM_DISPATCHER) });
  const retryBudget = new RetryBudget({ ratio: config.resilience.retryBudgetRatio });
  // The { __typename } probe is signed like any call (as the anonymous marker), so our subgraphs answer it.
  const probeHeaders = anonymousHeaders(options.internalSecret);
  const upstreams: Record<string, Upstream> = {};
  let closing: Promise<void> | undefined;
  return {
    upstreams,
    create: (subgraph, routingUrl) =>
      createUpstream({
        name: subgraph,
        urls: [...(options.subgraphUrls?.[subgraph] ?? configuredUrls[subgraph] ?? (routingUrl ? [routingUrl] : []))],
        resilience: config.resilience,
        timeoutMs: config.gateway.subgraphTimeoutMs,
        dispatcher,
        transport,
        retryBudget,
        healthProbe: healthProbeOf(config, supergraph, subgraph, probeHeaders),
        onMisconfiguredProbe: (url, status) =>
          logger.warn({ subgraph, replica: url, status }, 'health check answered %d: name a healthCheck path this subgraph serves in the topology file, or none for a { __typename } query; passive outlier detection still watches it', status),
        onHealthCheckError: (error) => logger.error({ subgraph, err: error }, 'a round of health checks failed'),
      }),
    close() {
      closing ??= (async () => {
        await Promise.all(Object.values(upstreams).map((u) => u.close()));
        await transport.close();
        await dispatcher.close();
      })();
      return closing;
    },
  };
}

/** A subgraph's health probe: the path its topology entry names, else a signed `{ __typename }` query. */
function healthProbeOf(config: Config, supergraph: string, subgraph: string, headers: () => Record<string, string>): HealthProbe {
  const path = config.topology.supergraphs[supergraph]?.subgraphs[subgraph]?.healthCheck;
  return path ? { kind: 'path', path } : { kind: 'graphql', headers };
}

/** Headers carrying the signed anonymous principal, signed again well within a token's life. */
function anonymousHeaders(secret: string): () => Record<string, string> {
  let signed: { headers: Record<string, string>; at: number } | undefined;
  return () => {
    const now = Date.now();
    if (!signed || now - signed.at > PRINCIPAL_TOKEN_REUSE_MS) signed = { headers: { [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, secret, now) }, at: now };
    return signed.headers;
  };
}
