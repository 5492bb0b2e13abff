import type { DocumentNode, ExecutionResult, GraphQLError, OperationDefinitionNode } from 'graphql';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Principal } from '../../lib/principal.ts';
import type { RequestRecord } from '../../lib/observability/requestTelemetry.ts';
import type { SingleMediaType } from '../../lib/server/answerMediaType.ts';
import type { OperationAnswer, OperationRequest } from '../../lib/server/graphqlEndpoint.ts';
import type { GraphQLParams } from '../../lib/server/graphqlParams.ts';
import type { AuthorizedOperation } from '../../lib/authorization/authorizeOperation.ts';
import type { RatePolicy } from '../rateLimit/rateLimiter.ts';

/** The principal of every anonymous request, one object: its signed token is reused like any other principal's. */
export const ANONYMOUS: Principal = Object.freeze({ scopes: [] }) as Principal;

/** Who a request comes from, worked out once from its API key and address, for auth and rate limits alike. */
export interface Caller {
  /** Whom the request acts for: the key's user, or ANONYMOUS. */
  principal: Principal;
  /** Whose allowance it spends: `key:<digest of the API key>` or `addr:<client address>`. */
  partition: string;
  policy: RatePolicy;
  /** The key names no one: 401, answered once the operation is known to be valid. */
  refusal?: GraphQLError;
  /** The key could not be checked (identity supergraph down): the request runs anonymously with this error. */
  warning?: GraphQLError;
}

/** Where a request came in and how it is answered: an HTTP request, or one operation of a WebSocket. */
export interface EdgeSource {
  transport: 'http' | 'ws';
  method: string;
  /** A request header (for WebSocket operations, the upgrade's, `authorization` from connectionParams). */
  header(name: string): string | undefined;
  /** The socket's peer. */
  remoteAddress: string | undefined;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  mediaType: SingleMediaType;
  streamAccepted: boolean;
  telemetry: RequestRecord;
}

/**
 * One request on its way through the edge: what came in, and what each stage found out, so no stage
 * works out twice what another already knows (the API key's principal, the parsed document).
 */
export class EdgeRequest {
  /** Set by the caller stage, before anything else runs. */
  caller!: Caller;
  document: DocumentNode | undefined;
  operation: OperationDefinitionNode | undefined;
  /** The manifest's text replaced the client's: it is trusted without a text check. */
  fromManifest = false;
  /** Errors reported next to the result, e.g. "the API key could not be checked". */
  requestErrors: GraphQLError[] | undefined;
  /** Headers every answer to this request carries (the RateLimit fields). */
  answerHeaders: OutgoingHttpHeaders | undefined;
  /** Extensions added to a single result (the cost report in dry-run mode). */
  extensions: Record<string, unknown> | undefined;
  /** Fields the caller may not see, taken out of `document` (authorizationStage.ts): answered null with errors. */
  denials: Pick<AuthorizedOperation, 'denied' | 'probes'> | undefined;
  /** Work for once the operation has run (cache writes, revocations), told its result. */
  afterwards: Array<(result: ExecutionResult | undefined) => void> | undefined;

  constructor(
    readonly source: EdgeSource,
    public params: GraphQLParams,
  ) {}

  get principal(): Principal {
    return this.caller.principal;
  }

  /** Runs `work` once the operation's result is known (undefined for a stream or a refusal). */
  after(work: (result: ExecutionResult | undefined) => void): void {
    (this.afterwards ??= []).push(work);
  }
}

/**
 * One concern of the edge: it reads and extends the request, and either lets it go on (undefined)
 * or answers it (a refusal, a cached answer, the routed result).
 */
export type EdgeStage = (request: EdgeRequest) => OperationAnswer | undefined | Promise<OperationAnswer | undefined>;

/** The edge's view of an HTTP request the server has read. */
export function httpSource(request: OperationRequest): EdgeSource {
  const { exchange } = request;
  return {
    transport: 'http',
    method: exchange.method,
    header: (name) => exchange.header(name),
    remoteAddress: exchange.remoteAddress,
    // The exchange makes its signal on first use: most requests never need one.
    get signal() {
      return exchange.signal;
    },
    mediaType: request.mediaType,
    streamAccepted: request.streamAccepted,
    telemetry: request.telemetry,
  };
}
