import { z } from 'zod';
import { flag } from './flag.ts';

/** The router's chat page settings (config section `router`). */
export const chatPageConfigSchema = {
  /** The chat page for browsers at `/` (static files, router/chatPage/). Off: browsers at `/` go to GraphiQL. @default true */
  chatPage: flag.default(true),
  /**
   * `/ops/state` on the client-facing port: a read-only view of gateway replicas, breakers and
   * fallbacks (names only, no URLs) for the chat page's operator panel, answered only to a browser
   * on the router's own host (loopback peer, no proxy headers). `off` answers 404 to everyone.
   * @default "loopback"
   */
  opsPanel: z.enum(['loopback', 'off']).default('loopback'),
};

/** Environment variables of the section, where their values sit in `router`. */
export function chatPageConfigFromEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return { chatPage: env.CHAT_PAGE, opsPanel: env.OPS_PANEL };
}
