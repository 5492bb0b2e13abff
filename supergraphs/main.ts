import { listenPort, loadConfig, requireInternalSecret } from '../lib/config.ts';
import { runComponent } from '../lib/server/runComponent.ts';
import { DEFAULT_PORTS, SUPERGRAPH_NAMES, isSupergraphName } from '../lib/topology.ts';
import { createGateway } from './createGateway.ts';

// `npm run gateway -- <identity|commerce>`: one supergraph gateway, configured from the environment,
// with its operator endpoints on the admin listener (ADMIN_PORT, on ADMIN_HOST).
const name = process.argv[2];
if (!name || !isSupergraphName(name)) {
  console.error(`usage: npm run gateway -- <${SUPERGRAPH_NAMES.join('|')}>`);
  process.exit(2);
}
await runComponent({
  component: `gateway-${name}`,
  async start() {
    const config = loadConfig();
    const gateway = await createGateway({
      name,
      config,
      internalSecret: requireInternalSecret(config),
      internalSecretPrevious: config.internalSecretPrevious,
    });
    const admin = await gateway.listenAdmin(listenPort(process.env, DEFAULT_PORTS.admin.gateways[name], 'ADMIN_PORT'));
    const bound = await gateway.listen(listenPort(process.env, DEFAULT_PORTS.gateways[name]), config.host);
    return { ...bound, admin, close: () => gateway.close() };
  },
});
