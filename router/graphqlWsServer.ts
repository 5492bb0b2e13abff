import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RequestTelemetry } from '../lib/observability/requestTelemetry.ts';
import type { OperationAnswer } from '../lib/server/graphqlEndpoint.ts';
import type { GraphQLParams } from '../lib/server/graphqlParams.ts';
import { checkNestingLimits, type NestingLimitsOptions } from '../lib/server/nestingLimits.ts';
import { publicResult } from '../lib/server/resultAnswer.ts';
import type { Edge } from './edge/composeEdge.ts';
import { EdgeRequest, type EdgeSource } from './edge/edgeRequest.ts';

export interface GraphQLWsOptions {
  /** Where clients connect; the same path as GraphQL over HTTP. @default "/graphql" */
  path?: string;
  /** Largest message accepted. */
  maxPayloadBytes: number;
  /** The edge current now (hot reload swaps it): every operation runs its stages, as an HTTP request does. */
  edge(): Edge;
  /** The JSON nesting bounds HTTP requests get, for messages that bypass HTTP parsing. */
  nesting?: NestingLimitsOptions;
  telemetry: RequestTelemetry;
  logger?: Logger;
}

export interface GraphQLWsServer {
  /** Open sockets. */
  readonly clients: number;
  /** Takes an HTTP/1.1 upgrade on the GraphQL path; anything else is refused. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket (1001 going away) and stops accepting; idempotent. */
  close(): Promise<void>;
}

/**
 * GraphQL over WebSocket (graphql-ws's own server, subprotocol `graphql-transport-ws`) on the
 * router's port and path, each operation through the same edge stages as an HTTP request: the
 * caller (the key from `connectionParams.authorization`, else the upgrade's headers), rate limits,
 * persisted documents, parsing and validation, auth, limits, then routing or the subscription. A
 * refusal before the operation runs is graphql-ws's `error` message; anything after is its results.
 */
export function createGraphQLWsServer(options: GraphQLWsOptions): GraphQLWsServer {
  const { path = '/graphql', maxPayloadBytes, nesting, telemetry, logger } = options;
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: maxPayloadBytes });
  // Aborted when the socket closes: a subscription still being opened upstream stops there.
  const gone = new WeakMap<WebSocket, AbortController>();
  const disposable = useServer(
    {
      execute: (args) => resultOf((args.rootValue as { answer: OperationAnswer }).answer),
      subscribe: (args) => {
        const { answer } = args.rootValue as { answer: OperationAnswer };
        return (answer.kind === 'stream' ? answer.events : resultOf(answer)) as never;
      },
      // What a client sees of a result or a refusal: no HTTP hints on the errors.
      onNext: (_ctx, _id, _payload, _args, result) => publicResult(result) as never,
      onError: (_ctx, _id, _payload, errors) => publicResult({ errors }).errors as never,
      onSubscribe: async (ctx, _id, payload) => {
        const upgrade = ctx.extra.request as IncomingMessage;
        const socket = ctx.extra.socket as WebSocket;
        try {
          checkNestingLimits(payload, nesting);
        } catch (error) {
          return [error as GraphQLError];
        }
        let closed = gone.get(socket);
        if (!closed) {
          gone.set(socket, (closed = new AbortController()));
          socket.once('close', () => closed!.abort(new DOMException('the client went away', 'AbortError')));
        }
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const source: EdgeSource = {
          transport: 'ws',
          method: 'POST',
          header: (name) => {
            if (name === 'authorization' && typeof authorization === 'string') return authorization;
            const value = upgrade.headers[name];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          remoteAddress: upgrade.socket.remoteAddress,
          signal: closed.signal,
          mediaType: 'application/json',
          streamAccepted: true,
          telemetry: telemetry.begin(upgrade.headers.traceparent as string | undefined),
        };
        const request = new EdgeRequest(source, payload as GraphQLParams);
        let ran;
        try {
          ran = await options.edge().run(request);
        } catch (error) {
          logger?.error({ err: error }, 'graphql-ws operation failed');
          throw error;
        }
        source.telemetry.answered(ran.answer.kind === 'result' && ran.answer.result.errors?.length && !('data' in ran.answer.result) ? 400 : 200);
        if (ran.refused && ran.answer.kind === 'result') return ran.answer.result.errors as GraphQLError[];
        const args: ExecutionArgs = {
          schema: options.edge().routingTable.schema,
          document: request.document!,
          operationName: request.params.operationName,
          variableValues: request.params.variables,
          rootValue: { answer: ran.answer },
        };
        return args;
      },
    },
    wsServer,
  );
  let closing: Promise<void> | undefined;
  return {
    get clients() {
      return wsServer.clients.size;
    },
    handleUpgrade(request, socket, head) {
      const target = (request.url ?? '').split('?', 1)[0];
      if (closing || (target !== path && target !== `${path}/`)) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit('connection', ws, request));
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

/** A single answer as the result graphql-ws sends (a cached answer's bytes parsed back). */
function resultOf(answer: OperationAnswer): ExecutionResult {
  if (answer.kind === 'result') return answer.result;
  if (answer.kind === 'bytes' && typeof answer.body === 'string') return JSON.parse(answer.body) as ExecutionResult;
  if (answer.kind === 'bytes' && answer.body instanceof Uint8Array) return JSON.parse(Buffer.from(answer.body).toString('utf8')) as ExecutionResult;
  throw new Error('a streamed answer where a single result was expected');
}
