import { refusedWith } from '../../lib/server/graphqlEndpoint.ts';
import type { EdgeStage } from './edgeRequest.ts';

/**
 * What the caller stage found about the API key, acted on once the operation is known to be valid:
 * a key that names no one is refused (401 UNAUTHENTICATED with a `WWW-Authenticate` challenge);
 * a key the identity supergraph could not check runs anonymously (public fields still answer,
 * private ones fail UNAUTHENTICATED) with one SUPERGRAPH_UNAVAILABLE error saying so, rather than
 * failing every field of the other supergraphs too. Subgraphs refuse private fields to anonymous
 * callers themselves.
 */
export const authStage: EdgeStage = (request) => {
  const { refusal, warning } = request.caller;
  if (refusal) return refusedWith(refusal);
  if (warning) request.requestErrors = [...(request.requestErrors ?? []), warning];
  return undefined;
};
