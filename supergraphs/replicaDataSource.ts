import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { downstreamError } from '../lib/errors.ts';
import { PRINCIPAL_HEADER } from '../lib/principal.ts';
import { requestScope } from '../lib/requestScope.ts';
import { UpstreamError, type UpstreamClient } from '../lib/upstreamClient.ts';

/** What the gateway's HTTP handler puts in each request's context. */
export interface GatewayContext {
  /** The router-signed principal, forwarded untouched: subgraphs verify it themselves. */
  principalToken?: string;
}

/**
 * The gateway's data source for one subgraph: every call goes to one replica of the subgraph's pool
 * (through the injected fetcher), and a failed call becomes masked GraphQL errors on the fields it
 * should have filled, so the gateway returns everything else.
 */
export class ReplicaDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    readonly serviceName: string,
    private readonly client: UpstreamClient,
  ) {
    super({ url: `replica-pool://${serviceName}` });
    this.fetcher = async (_url, init) => {
      const body = String(init?.body ?? '');
      const response = await this.client.post(body, {
        headers: (init?.headers ?? {}) as Record<string, string>,
        signal: requestScope.getStore()?.signal,
        idempotent: !isMutationBody(body),
      });
      return new Response(response.body, {
        status: response.status,
        headers: { 'content-type': response.contentType ?? 'application/json' },
      }) as never;
    };
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (context.principalToken) request.http?.headers.set(PRINCIPAL_HEADER, context.principalToken);
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    try {
      return await super.process(options);
    } catch (error) {
      const reason = error instanceof UpstreamError ? error.reason : 'bad_response';
      const attempts = error instanceof UpstreamError ? error.attempts : 1;
      return {
        data: null,
        errors: failurePaths(options).map((path) => downstreamError(this.serviceName, reason, attempts, path)),
      } as GatewayGraphQLResponse;
    }
  }
}

/** The gateway generates subgraph operations, so a mutation's text starts with the keyword. */
function isMutationBody(body: string): boolean {
  return /"query":"\s*mutation\b/.test(body);
}

/**
 * Paths the failed fetch would have filled: one per entity for an `_entities` fetch (the gateway maps
 * them back to where the entities sit in the response), else one per root field.
 */
function failurePaths(options: GraphQLDataSourceProcessOptions<GatewayContext>): Array<Array<string | number> | undefined> {
  const representations = options.request.variables?.representations;
  if (Array.isArray(representations)) return representations.map((_, i) => ['_entities', i]);
  // The gateway does not always hand over the parsed fetch; parsing on this failure path is cheap.
  const given = 'document' in options ? (options.document as DocumentNode | undefined) : undefined;
  const document = given ?? safeParse(options.request.query);
  const operation = document?.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const keys = (operation?.selectionSet.selections ?? []).flatMap((s) =>
    s.kind === Kind.FIELD && s.name.value !== '__typename' ? [s.alias?.value ?? s.name.value] : [],
  );
  return keys.length ? keys.map((key) => [key]) : [undefined];
}

function safeParse(query: string | undefined): DocumentNode | undefined {
  try {
    return query ? parse(query) : undefined;
  } catch {
    return undefined;
  }
}
