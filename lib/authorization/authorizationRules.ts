import { Kind, parse, type DirectiveNode, type DocumentNode } from 'graphql';

/**
 * Who may see a field or a type: any authenticated caller, and when `scopes` is given, one holding
 * every scope of at least one of its sets (`@requiresScopes(scopes: [["a", "b"], ["c"]])`: a and b,
 * or c), as Apollo Federation's authorization directives say.
 */
export interface AccessRule {
  authenticated: boolean;
  scopes?: ReadonlyArray<readonly string[]>;
}

/**
 * The authorization directives of composed supergraphs, `@authenticated` and `@requiresScopes`
 * (Federation 2.5+, written in the subgraph SDL that owns the field or type): the one declaration the
 * router enforces before calling a gateway, and the gateway again before executing.
 */
export interface AuthorizationRules {
  field(typeName: string, fieldName: string): AccessRule | undefined;
  type(typeName: string): AccessRule | undefined;
  /** True when no element carries a rule: nothing to check. */
  readonly empty: boolean;
}

export const AUTHENTICATED_DIRECTIVE = 'authenticated';
export const REQUIRES_SCOPES_DIRECTIVE = 'requiresScopes';

/** Reads the rules of one or more supergraph (or subgraph) SDLs; rules on the same element add up. */
export function readAuthorizationRules(...sdls: Array<string | DocumentNode>): AuthorizationRules {
  const types = new Map<string, AccessRule>();
  const fields = new Map<string, AccessRule>();
  for (const sdl of sdls) {
    const document = typeof sdl === 'string' ? parse(sdl, { noLocation: true }) : sdl;
    for (const definition of document.definitions) {
      if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
      const typeName = definition.name.value;
      const typeRule = ruleOf(definition.directives);
      if (typeRule) types.set(typeName, merge(types.get(typeName), typeRule));
      if (!('fields' in definition) || !definition.fields) continue;
      for (const field of definition.fields) {
        if (field.kind !== Kind.FIELD_DEFINITION) continue;
        const rule = ruleOf(field.directives);
        const key = `${typeName}.${field.name.value}`;
        if (rule) fields.set(key, merge(fields.get(key), rule));
      }
    }
  }
  return {
    field: (typeName, fieldName) => fields.get(`${typeName}.${fieldName}`),
    type: (typeName) => types.get(typeName),
    empty: types.size === 0 && fields.size === 0,
  };
}

function ruleOf(directives: readonly DirectiveNode[] | undefined): AccessRule | undefined {
  let rule: AccessRule | undefined;
  for (const directive of directives ?? []) {
    if (directive.name.value === AUTHENTICATED_DIRECTIVE) rule = merge(rule, { authenticated: true });
    if (directive.name.value === REQUIRES_SCOPES_DIRECTIVE) {
      const value = directive.arguments?.find((a) => a.name.value === 'scopes')?.value;
      const sets = value?.kind === Kind.LIST ? value.values.map((set) => (set.kind === Kind.LIST ? set.values.flatMap((s) => (s.kind === Kind.STRING ? [s.value] : [])) : [])) : [];
      rule = merge(rule, { authenticated: true, scopes: sets });
    }
  }
  return rule;
}

/** Both rules at once: scopes required by each must all be met (every pair of their alternatives, joined). */
function merge(a: AccessRule | undefined, b: AccessRule): AccessRule {
  if (!a) return b;
  const scopes = a.scopes && b.scopes ? a.scopes.flatMap((x) => b.scopes!.map((y) => [...new Set([...x, ...y])])) : (a.scopes ?? b.scopes);
  return { authenticated: a.authenticated || b.authenticated, ...(scopes ? { scopes } : {}) };
}

/** The caller as authorization sees it: authenticated or not, and the scopes its API key carries. */
export interface Caller {
  authenticated: boolean;
  scopes: ReadonlySet<string>;
}

/** Whether `caller` meets `rule` (no rule: anyone). */
export function allows(rule: AccessRule | undefined, caller: Caller): boolean {
  if (!rule) return true;
  if (rule.authenticated && !caller.authenticated) return false;
  if (!rule.scopes) return true;
  return rule.scopes.some((set) => set.every((scope) => caller.scopes.has(scope)));
}
