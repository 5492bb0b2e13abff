import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { schemaFolder } from '../lib/schemaFolder.ts';
import type { SubgraphName } from './subgraphNames.ts';
import { createAnalyticsLoaders } from './analytics/loaders.ts';
import { analyticsResolvers } from './analytics/resolvers.ts';
import { createArticlesLoaders } from './articles/loaders.ts';
import { articlesResolvers } from './articles/resolvers.ts';
import { createAuthLoaders } from './auth/loaders.ts';
import { registerDemoApiKey } from './auth/registerDemoApiKey.ts';
import { authResolvers } from './auth/resolvers.ts';
import { ChatRuntime } from './chat/chatRuntime.ts';
import { createChatLoaders } from './chat/loaders.ts';
import { chatResolvers } from './chat/resolvers.ts';
import { createOrdersLoaders } from './orders/loaders.ts';
import { ordersResolvers } from './orders/resolvers.ts';
import { createQuotaLoaders } from './quota/loaders.ts';
import { quotaResolvers } from './quota/resolvers.ts';
import type { SubgraphDefinition } from './subgraphDefinition.ts';
import { createUsersLoaders } from './users/loaders.ts';
import { usersResolvers } from './users/resolvers.ts';

// SCHEMA_DIR moves every tier to another schema folder at once (a deployment's, or a test's scratch copy).
const sdl = (name: SubgraphName) => pathToFileURL(join(schemaFolder(), `${name}.graphql`));

/** Every subgraph this project ships, by name. */
export const SUBGRAPH_CATALOG: { [N in SubgraphName]: SubgraphDefinition<any, any> } = {
  auth: { typeDefs: sdl('auth'), resolvers: authResolvers, createLoaders: createAuthLoaders, onStart: registerDemoApiKey },
  users: { typeDefs: sdl('users'), resolvers: usersResolvers, createLoaders: createUsersLoaders },
  quota: { typeDefs: sdl('quota'), resolvers: quotaResolvers, createLoaders: createQuotaLoaders },
  orders: { typeDefs: sdl('orders'), resolvers: ordersResolvers, createLoaders: createOrdersLoaders },
  articles: { typeDefs: sdl('articles'), resolvers: articlesResolvers, createLoaders: createArticlesLoaders },
  analytics: { typeDefs: sdl('analytics'), resolvers: analyticsResolvers, createLoaders: createAnalyticsLoaders },
  chat: {
    typeDefs: sdl('chat'),
    resolvers: chatResolvers,
    createLoaders: createChatLoaders,
    createRuntime: ({ db, config, logger }) => new ChatRuntime({ db, config: config.chat, redisUrl: config.cache.redisUrl, logger }),
  },
};
