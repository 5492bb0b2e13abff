import { forbidden } from '../../lib/errors.ts';
import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import { currentQuotaPeriod, type QuotaView } from './currentQuotaPeriod.ts';
import type { QuotaLoaders } from './loaders.ts';

type Context = SubgraphContext<QuotaLoaders>;

interface UserWithQuota {
  id: string;
  quota: QuotaView | null;
}

/** Resolvers of the quota subgraph: User.quota. */
export const quotaResolvers: SubgraphResolvers<Context> = {
  User: {
    __resolveReference: async (reference: { id: string }, context: Context): Promise<UserWithQuota | { id: string }> => {
      // Only the owner's quota is loaded; User.quota below explains the refusal for anyone else.
      if (context.principal?.userId !== reference.id) return { id: reference.id };
      const row = await context.loaders.quotaByUserId.load(reference.id);
      return { id: reference.id, quota: row && currentQuotaPeriod(row) };
    },
    quota: (user: UserWithQuota | { id: string }, _args: unknown, context: Context) => {
      // Quota is nullable, so refusing here nulls only this field and the rest of the user stands.
      if (requireUserId(context) !== user.id) throw forbidden('A quota is visible to its owner only.');
      return 'quota' in user ? user.quota : null;
    },
  },
};
