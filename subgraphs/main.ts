import { parseArgs } from 'node:util';
import { ConfigError, listenPort, loadConfig, requireInternalSecret } from '../lib/config.ts';
import { componentLogger } from '../lib/logger.ts';
import { openDatabase, type Store } from '../lib/store/openDatabase.ts';
import { DEFAULT_PORTS, SUBGRAPH_NAMES, isSubgraphName } from '../lib/topology.ts';
import { startSubgraph, type RunningSubgraph } from './subgraphServer.ts';

// `npm run subgraph -- <name> [--replica N]`: one replica of one subgraph.
const USAGE = `usage: npm run subgraph -- <name> [--replica N]\n  name: one of ${SUBGRAPH_NAMES.join(', ')}`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function parseCommandLine(argv: string[]): { name: (typeof SUBGRAPH_NAMES)[number]; replica: number } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { replica: { type: 'string', default: '0' } } });
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  const [name, ...extra] = parsed.positionals;
  if (!name || extra.length) fail(USAGE);
  if (!isSubgraphName(name)) fail(`unknown subgraph "${name}"; valid names: ${SUBGRAPH_NAMES.join(', ')}`);
  const replica = Number(parsed.values.replica);
  if (!Number.isInteger(replica) || replica < 0) fail(`--replica must be a non-negative integer, got "${parsed.values.replica}"`);
  return { name, replica };
}

async function main(): Promise<void> {
  const { name, replica } = parseCommandLine(process.argv.slice(2));
  const component = `${name}-${replica}`;
  const log = componentLogger(`subgraph-${component}`);

  let config;
  let internalSecret: string;
  let port: number;
  try {
    config = loadConfig();
    internalSecret = requireInternalSecret(config);
    port = listenPort(process.env, DEFAULT_PORTS.subgraphs[name] + replica);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }

  let store: Store | undefined;
  let server: RunningSubgraph | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await server?.close();
      await store?.close();
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  store = await openDatabase({ path: config.database.path });
  server = await startSubgraph({ name, host: config.host, port, store, internalSecret, demoApiKey: config.demoApiKey, config });
  log.info({ url: server.url, port: server.port, database: config.database.path }, `${component} ready`);
  process.send?.({ type: 'ready', component, port: server.port });
}

main().catch((error) => {
  componentLogger('subgraph').fatal({ err: error }, 'failed to start');
  process.exit(1);
});
