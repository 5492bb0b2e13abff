import type { ExecutionResult, GraphQLError } from 'graphql';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { RequestRecord } from '../observability/requestTelemetry.ts';
import type { SingleMediaType } from './answerMediaType.ts';
import type { GraphQLParams } from './graphqlParams.ts';
import type { ServerExchange } from './serverExchange.ts';

/** One GraphQL request, read and checked by the server, for the component to run. */
export interface OperationRequest {
  exchange: ServerExchange;
  params: GraphQLParams;
  /** How a single result will be sent. */
  mediaType: SingleMediaType;
  /** Whether the client takes a stream of results (SSE): a subscription needs one. */
  streamAccepted: boolean;
  telemetry: RequestRecord;
}

/** What a component answers a GraphQL request with. */
export type OperationAnswer =
  /** One result; its status comes from its errors (resultAnswer.ts). */
  | { kind: 'result'; result: ExecutionResult; headers?: OutgoingHttpHeaders }
  /** A subscription's results, sent as SSE events. */
  | { kind: 'stream'; events: AsyncGenerator<ExecutionResult>; headers?: OutgoingHttpHeaders }
  /** An answer already serialised, passed on as its bytes arrive (JSON only). */
  | {
      kind: 'bytes';
      status: number;
      /** Its text, or a stream of its chunks (a Node Readable is copied by its events, without a promise per chunk). */
      body: Readable | AsyncIterable<Uint8Array> | Uint8Array | string;
      headers?: OutgoingHttpHeaders;
      /** Keep the chunks for `onEnd` (a cache wants the whole answer). @default false */
      keepWhole?: boolean;
      /** Told once the answer is sent (or cut off), with its text when kept and complete. */
      onEnd?(complete: boolean, whole: string | undefined): void;
    };

/** The GraphQL endpoint of a component: what it checks before reading a body, and how it runs a request. */
export interface GraphQLEndpoint {
  /** Refuses a request from its headers alone, before its body is read (an unsigned call, a cross-site form). @default none */
  screen?(exchange: ServerExchange): GraphQLError | undefined;
  /** Parameters accepted beyond the four of the spec (`documentId`). @default none */
  extraParams?: readonly string[];
  run(request: OperationRequest): Promise<OperationAnswer>;
}

/** A result that refuses the request, to answer with its error's status. */
export function refusedWith(error: GraphQLError, headers?: OutgoingHttpHeaders): OperationAnswer {
  return { kind: 'result', result: { errors: [error] }, headers };
}
