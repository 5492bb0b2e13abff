import { ConfigError, listenPort, loadConfig } from '../lib/config.ts';
import { componentLogger } from '../lib/logger.ts';
import { DEFAULT_PORTS, SUPERGRAPH_NAMES, isSupergraphName } from '../lib/topology.ts';
import { startGateway } from './createGateway.ts';

// `npm run gateway -- <identity|commerce>`: one supergraph gateway, configured from the environment.
const name = process.argv[2];
if (!name || !isSupergraphName(name)) {
  console.error(`usage: npm run gateway -- <${SUPERGRAPH_NAMES.join('|')}>`);
  process.exit(2);
}
const log = componentLogger(`gateway-${name}`);
try {
  const config = loadConfig();
  const port = listenPort(process.env, DEFAULT_PORTS.gateways[name]);
  const gateway = await startGateway({ name, config }, config.host, port);
  log.info({ url: gateway.url }, 'gateway ready');
  process.send?.({ type: 'ready', component: `gateway-${name}`, port: gateway.port });
  const stop = async () => {
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
