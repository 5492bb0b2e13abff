import { ConfigError, listenPort, loadConfig, requireInternalSecret } from '../lib/config.ts';
import { componentLogger } from '../lib/logger.ts';
import { createRouter } from './createRouter.ts';

// `npm run router`: the client-facing router, configured from the environment (PORT wins over config).
const log = componentLogger('router');
try {
  const config = loadConfig();
  const internalSecret = requireInternalSecret(config);
  const port = listenPort(process.env, config.router.port);
  const router = createRouter({ config, internalSecret, logger: log });
  const { url, port: actualPort } = await router.listen(port, config.host);
  log.info({ url, gateways: config.router.gatewayUrls }, 'router ready');
  process.send?.({ type: 'ready', component: 'router', port: actualPort });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'router shutting down');
    try {
      await router.close();
    } catch (error) {
      log.error({ err: error }, 'router did not close cleanly');
    }
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  log.error({ err: error }, 'router failed to start');
  process.exit(1);
}
