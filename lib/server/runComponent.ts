import { ConfigError } from '../config.ts';
import { componentLogger } from '../logger.ts';
import { loadObservabilityConfig } from '../config/observabilityConfig.ts';
import { startTracing, type Tracing } from '../observability/tracing.ts';

/** A started component: where it listens and how it stops. */
export interface RunningComponent {
  url: string;
  port: number;
  /** The admin listener (operator endpoints), for components that have one. */
  admin?: { url: string; port: number };
  /** Drains and stops; idempotent. */
  close(): Promise<void>;
}

export interface RunComponentOptions {
  /** The name the launcher knows it by, e.g. `router`, `gateway-commerce`, `orders-0`. */
  component: string;
  /** @default component */
  logName?: string;
  start(): Promise<RunningComponent>;
}

/**
 * The one way every process of the stack starts and stops: a config error exits 2 with its message
 * (naming the variable to fix), any other start failure exits 1; once listening it tells a launching
 * parent it is ready, with its port and admin port; SIGTERM or SIGINT drains and exits 0, a second signal exits at once.
 */
export async function runComponent({ component, logName = component, start }: RunComponentOptions): Promise<void> {
  const log = componentLogger(logName);
  let running: RunningComponent | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await running?.close();
      await tracing?.shutdown();
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'did not close cleanly');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  let tracing: Tracing | undefined;
  try {
    const observability = loadObservabilityConfig();
    tracing = startTracing({ serviceName: observability.serviceName ?? logName.replace(/-\d+$/, ''), instanceId: component, endpoint: observability.otlpEndpoint });
    running = await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    log.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
  log.info({ url: running.url, adminUrl: running.admin?.url }, `${component} ready`);
  process.send?.({ type: 'ready', component, port: running.port, adminPort: running.admin?.port });
}
