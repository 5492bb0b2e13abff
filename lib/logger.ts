import pino from 'pino';

/** One pino logger per process; components add their name as a child binding. */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
});

export function componentLogger(component: string) {
  return logger.child({ component });
}
