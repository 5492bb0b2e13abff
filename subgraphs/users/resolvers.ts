import type { Selectable } from 'kysely';
import type { UsersTable } from '../store/tables.ts';
import { requireUserId, type SubgraphContext } from '../subgraphContext.ts';
import type { SubgraphResolvers } from '../subgraphDefinition.ts';
import type { UsersLoaders } from './loaders.ts';

type Context = SubgraphContext<UsersLoaders>;

function toUser(row: Selectable<UsersTable>) {
  return { id: row.id, name: row.name, email: row.email, plan: row.plan, createdAt: row.created_at };
}

/** Resolvers of the users subgraph: profiles. */
export const usersResolvers: SubgraphResolvers<Context> = {
  Query: {
    me: async (_source: unknown, _args: unknown, context: Context) => {
      const row = await context.loaders.userById.load(requireUserId(context));
      return row && toUser(row);
    },
  },
  User: {
    // Profiles are not secret inside the platform (other subgraphs may show who owns what).
    __resolveReference: async (reference: { id: string }, context: Context) => {
      const row = await context.loaders.userById.load(reference.id);
      return row && toUser(row);
    },
  },
};
