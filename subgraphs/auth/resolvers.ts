import { randomBytes } from 'node:crypto';
import { badUserInput, forbidden, notFound } from '../../lib/errors.ts';
import { apiKeyRecord, createApiKey, generateApiKey, hashApiKey, revokeApiKey } from '../store/apiKeys.ts';
import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import type { AuthLoaders } from './loaders.ts';

type Context = SubgraphContext<AuthLoaders>;

/** Keys one user may hold at once: enough for every app and environment, not a store to fill. */
export const MAX_API_KEYS_PER_USER = 20;
const MAX_LABEL_LENGTH = 64;

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
  Mutation: {
    createApiKey: async (_source: unknown, args: { label: string; scopes?: string[] | null }, context: Context) => {
      const userId = requireUserId(context);
      const label = args.label.trim();
      if (!label || label.length > MAX_LABEL_LENGTH) {
        throw badUserInput(`label must be 1 to ${MAX_LABEL_LENGTH} characters.`, { field: 'label' });
      }
      const existing = await context.loaders.apiKeysByUserId.load(userId);
      if (existing.length >= MAX_API_KEYS_PER_USER) {
        throw badUserInput(`At most ${MAX_API_KEYS_PER_USER} API keys per user: revoke one first.`, { limit: MAX_API_KEYS_PER_USER });
      }
      const scopes = narrowedScopes(context.principal?.scopes ?? [], args.scopes);
      const secret = generateApiKey(randomBytes);
      const apiKey = await createApiKey(context.db, { userId, label, scopes, secret });
      return { apiKey, secret };
    },
    revokeApiKey: async (_source: unknown, args: { id: string }, context: Context) => {
      const userId = requireUserId(context);
      // Someone else's key answers like an unknown one, so ids cannot be probed.
      const revoked = await revokeApiKey(context.db, { userId, id: args.id });
      if (!revoked) throw notFound('No such API key.');
      return revoked;
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
      return rows.map(apiKeyRecord);
    },
  },
};

// Each scope's length is bounded by the argument's description (stringArgumentLimits.ts).
const MAX_SCOPES = 16;

/** The scopes of a new key: the caller's own, or those of them it asks for. A key never grants more than the key that made it. */
function narrowedScopes(own: readonly string[], asked: readonly string[] | null | undefined): string[] {
  if (asked === null || asked === undefined) return [...own];
  if (asked.length > MAX_SCOPES) throw badUserInput(`scopes: at most ${MAX_SCOPES}.`, { field: 'scopes' });
  const lacking = asked.filter((scope) => !own.includes(scope));
  if (lacking.length) throw badUserInput(`The calling key lacks ${lacking.map((s) => JSON.stringify(s)).join(', ')}: a new key may have only scopes of the key that makes it.`, { field: 'scopes' });
  return [...new Set(asked)];
}
