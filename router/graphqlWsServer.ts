import type { IncomingMessage, Server } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { checkNestingLimits, type NestingLimitsOptions } from '../lib/server/nestingLimits.ts';
import type { RouterContext } from './routerContext.ts';

export interface GraphQLWsOptions {
  /** Where clients connect; the same path as GraphQL over HTTP. @default "/graphql" */
  path?: string;
  /** Largest message accepted. */
  maxPayloadBytes: number;
  /**
   * Lets a subscription start or refuses it (the rate limit), before anything else is done for it.
   * Resolves to the error to answer with, or undefined.
   */
  admit?(request: Request, socketAddress: string | undefined): Promise<GraphQLError | undefined>;
  /** The JSON nesting bounds HTTP requests get from useNestingLimits, for messages that bypass it. */
  nesting?: NestingLimitsOptions;
  logger?: Logger;
}

export interface GraphQLWsServer {
  /** Open sockets. */
  readonly clients: number;
  /** Closes every socket (1001 going away) and stops accepting; idempotent. */
  close(): Promise<void>;
}

/**
 * GraphQL over WebSocket (graphql-ws, subprotocol `graphql-transport-ws`) on the router's own HTTP
 * server and path, through the same yoga pipeline as HTTP: the same plugins parse, validate, limit
 * and authenticate (useAuth reads the API key from `connectionParams.authorization`, else from the
 * upgrade request's headers), and the same routed execute and subscribe answer.
 */
export function attachGraphQLWs(
  server: Server,
  yoga: Pick<YogaServerInstance<Record<string, never>, RouterContext>, 'getEnveloped'>,
  options: GraphQLWsOptions,
): GraphQLWsServer {
  const { path = '/graphql', maxPayloadBytes, admit, nesting, logger } = options;
  const wsServer = new WebSocketServer({ server, path, maxPayload: maxPayloadBytes });
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as { execute(args: ExecutionArgs): unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe(args: ExecutionArgs): unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const upgrade = ctx.extra.request as IncomingMessage;
        const request = requestOf(upgrade, path, ctx.connectionParams);
        const refusal = await admit?.(request, upgrade.socket.remoteAddress);
        if (refusal) return [refusal];
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          request,
          req: upgrade,
          socket: ctx.extra.socket,
          params: payload,
        });
        try {
          checkNestingLimits(payload, nesting);
          const document = parse(payload.query);
          const errors = validate(schema, document);
          if (errors.length) return errors;
          return {
            schema,
            document,
            operationName: payload.operationName,
            variableValues: payload.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
        } catch (error) {
          // Parse failures and refused keys are GraphQL errors the client must see; anything else is ours.
          if ((error as Error)?.name === 'GraphQLError') return [error as GraphQLError];
          logger?.error({ err: error }, 'graphql-ws subscribe failed');
          throw error;
        }
      },
    },
    wsServer,
  );
  let closing: Promise<void> | undefined;
  return {
    get clients() {
      return wsServer.clients.size;
    },
    close() {
      closing ??= (async () => {
        await disposable.dispose();
        await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/**
 * A Fetch Request standing for one WebSocket operation, so the HTTP plugins (auth, limits) read it
 * as they read any request: the upgrade's headers, with `connectionParams.authorization` winning.
 */
function requestOf(upgrade: IncomingMessage, path: string, connectionParams: Readonly<Record<string, unknown>> | undefined): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(upgrade.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(', '));
  }
  const authorization = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof authorization === 'string') headers.set('authorization', authorization);
  for (const hopByHop of ['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions']) headers.delete(hopByHop);
  // A fixed origin: the Host header is the client's to write, and nothing here needs it.
  return new Request(`http://router.internal${path}`, { method: 'POST', headers });
}
