import { forbidden } from '../../lib/errors.ts';
import { hashApiKey } from '../store/apiKeys.ts';
import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import type { AuthLoaders } from './loaders.ts';

type Context = SubgraphContext<AuthLoaders>;

/** Resolvers of the auth subgraph: API keys and their owners. */
export const authResolvers: SubgraphResolvers<Context> = {
  Query: {
    _internalAuthenticate: async (_source: unknown, args: { apiKey: string }, context: Context) => {
      // Only the router may turn keys into principals: it signs every call, even anonymous ones,
      // so an unsigned caller here is someone probing keys.
      if (!context.principal) throw forbidden('_internalAuthenticate answers only calls signed by the router.');
      if (!args.apiKey) return null;
      const row = await context.loaders.apiKeyByHash.load(hashApiKey(args.apiKey));
      return row && { userId: row.user_id, scopes: JSON.parse(row.scopes) as string[] };
    },
  },
  AuthenticatedPrincipal: {
    // A reference the gateway completes from the users subgraph (the plan lives there).
    user: (principal: { userId: string }) => ({ id: principal.userId }),
  },
  User: {
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
    // Another user's keys are refused with FORBIDDEN rather than shown as an empty list, which would
    // pretend that user has no keys.
    apiKeys: async (user: { id: string }, _args: unknown, context: Context) => {
      if (requireUserId(context) !== user.id) throw forbidden('API keys are visible to their owner only.');
      const rows = await context.loaders.apiKeysByUserId.load(user.id);
      return rows.map((row) => ({ id: row.id, label: row.label, prefix: row.prefix, createdAt: row.created_at }));
    },
  },
};
