import { inspect } from 'node:util';
import type { Logger } from 'pino';
import type { YogaLogger } from 'graphql-yoga';

function message(args: unknown[]): string {
  return args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 3 }))).join(' ');
}

/** Routes graphql-yoga's own logging (e.g. the original of a masked error) into a pino logger. */
export function yogaLogger(logger: Logger): YogaLogger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    const error = args.find((a): a is Error => a instanceof Error);
    if (error) logger[level]({ err: error }, error.message);
    else logger[level](message(args));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
