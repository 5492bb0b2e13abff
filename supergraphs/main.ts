import { ConfigError, listenPort, loadConfig, requireInternalSecret } from '../lib/config.ts';
import { runComponent } from '../lib/server/runComponent.ts';
import { createGateway } from './createGateway.ts';

// `npm run gateway -- NAME`: the gateway of one supergraph the topology names (TOPOLOGY_FILE; the
// reference deployment's identity and commerce by default), configured from the environment, with
// its operator endpoints on the admin listener (ADMIN_PORT, on ADMIN_HOST).
const name = process.argv[2];
await runComponent({
  component: `gateway-${name}`,
  async start() {
    const config = loadConfig();
    const supergraph = name ? config.topology.supergraphs[name] : undefined;
    if (!supergraph) {
      throw new ConfigError(`usage: npm run gateway -- <${Object.keys(config.topology.supergraphs).join('|')}> (the supergraphs of ${config.topology.file})`);
    }
    const gateway = await createGateway({
      name,
      config,
      internalSecret: requireInternalSecret(config),
      internalSecretPrevious: config.internalSecretPrevious,
    });
    const admin = await gateway.listenAdmin(listenPort(process.env, supergraph.gateway.adminPort, 'ADMIN_PORT'));
    const bound = await gateway.listen(listenPort(process.env, supergraph.gateway.port), config.host);
    return { ...bound, admin, close: () => gateway.close() };
  },
});
