import { DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph } from '@apollo/federation-internals';

/** The authorization features our router and gateways enforce themselves (authorizeOperation.ts). */
const AUTHORIZATION_FEATURES = ['https://specs.apollo.dev/authenticated/v0.1', 'https://specs.apollo.dev/requiresScopes/v0.1'];

const ENFORCED_FEATURES = new Set([...DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES, ...AUTHORIZATION_FEATURES]);

/**
 * A federation Supergraph of an SDL that may link `@authenticated` and `@requiresScopes` `for:
 * SECURITY`. A supergraph links a feature for security to say "refuse me if you do not enforce it":
 * stock @apollo/gateway refuses such supergraphs; these two we enforce, any other still refuses.
 */
export function buildEnforcedSupergraph(sdl: string): Supergraph {
  return Supergraph.build(sdl, { supportedFeatures: ENFORCED_FEATURES });
}

/**
 * The SDL as @apollo/gateway may load it: the two authorization links without their `for:
 * SECURITY` purpose, which it would refuse. Only for a gateway that enforces them before Apollo's
 * code runs (ours does, in gatewayGeneration.ts).
 */
export function withAuthorizationEnforcedElsewhere(sdl: string): string {
  let out = sdl;
  for (const url of AUTHORIZATION_FEATURES) out = out.replaceAll(`@link(url: "${url}", for: SECURITY)`, `@link(url: "${url}")`);
  return out;
}
