import { listenPort, loadConfig, requireInternalSecret } from '../lib/config.ts';
import { componentLogger } from '../lib/logger.ts';
import { runComponent } from '../lib/server/runComponent.ts';
import { createRouter } from './createRouter.ts';

// `npm run router`: the client-facing router, configured from the environment (PORT wins over config).
await runComponent({
  component: 'router',
  async start() {
    const config = loadConfig();
    const router = createRouter({ config, internalSecret: requireInternalSecret(config), logger: componentLogger('router') });
    const bound = await router.listen(listenPort(process.env, config.router.port), config.host);
    return { ...bound, close: () => router.close() };
  },
});
