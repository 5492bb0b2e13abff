import { parseArgs } from 'node:util';
import { listenPort, loadConfig, requireInternalSecret } from '../lib/config.ts';
import { storeOptions } from '../lib/config/databaseConfig.ts';
import { runComponent } from '../lib/server/runComponent.ts';
import { ConfigError } from '../lib/config/configError.ts';
import { replicaPortOf } from '../lib/topology/loadTopology.ts';
import { SUBGRAPH_NAMES, isSubgraphName, type SubgraphName } from './subgraphNames.ts';
import { openDatabase } from './store/openDatabase.ts';
import { startSubgraph } from './subgraphServer.ts';

// `npm run subgraph -- <name> [--replica N]`: one replica of one subgraph.
const USAGE = `usage: npm run subgraph -- <name> [--replica N]\n  name: one of ${SUBGRAPH_NAMES.join(', ')}`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function parseCommandLine(argv: string[]): { name: SubgraphName; replica: number } {
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

const { name, replica } = parseCommandLine(process.argv.slice(2));
await runComponent({
  component: `${name}-${replica}`,
  logName: `subgraph-${name}-${replica}`,
  async start() {
    const config = loadConfig();
    const internalSecret = requireInternalSecret(config);
    const defaultPort = replicaPortOf(config.topology, name, replica);
    if (defaultPort === undefined && !process.env.PORT) throw new ConfigError(`the topology ${config.topology.file} gives ${name} no replica URLs: set PORT`);
    const port = listenPort(process.env, defaultPort ?? 0);
    const store = await openDatabase(storeOptions(config.database, `${name}-${replica}`));
    const server = await startSubgraph({
      name,
      host: config.host,
      port,
      store,
      internalSecret,
      internalSecretPrevious: config.internalSecretPrevious,
      demoApiKey: config.demoApiKey,
      demoFreeApiKey: config.demoFreeApiKey,
      config,
      limits: config.server,
    });
    return {
      url: server.url,
      port: server.port,
      async close() {
        await server.close();
        await store.close();
      },
    };
  },
});
