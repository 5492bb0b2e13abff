import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

/** One generated operation: its text, the variables to send with it, and a name for failure messages. */
export interface GeneratedOperation {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

export interface GenerateOptions {
  /** How many levels of composite fields below each root field. @default 3 */
  depth?: number;
  /** Values for required arguments, by `Type.field.argument` (then by the argument's type name). */
  argumentValues?: Record<string, unknown>;
  /** Root fields left out (ones that write, or need a live backend). */
  skipRootFields?: readonly string[];
}

/** How one selection is written: plain, aliased and repeated, in fragments, or under @include/@skip. */
type Style = 'plain' | 'aliased' | 'fragments' | 'conditions' | 'reversed';
const STYLES: Style[] = ['plain', 'aliased', 'fragments', 'conditions', 'reversed'];

/**
 * Operations over every field reachable from the query root within a depth, for comparing two
 * executors on the same supergraph: per root field one operation in each style (plain; aliased, with a
 * field repeated under its own name; through named and inline fragments on every possible type of an
 * abstract type; with arguments as variables and `@include`/`@skip` on variables both ways; fields in
 * reverse order), plus all root fields in one operation (parallel fetches). Arguments that are not
 * required are left out; required ones take `argumentValues` or a value of their type.
 */
export function generateOperations(schema: GraphQLSchema, options: GenerateOptions = {}): GeneratedOperation[] {
  const depth = options.depth ?? 3;
  const query = schema.getQueryType();
  if (!query) return [];
  const roots = Object.values(query.getFields()).filter((f) => !f.name.startsWith('_') && !options.skipRootFields?.includes(f.name));
  const out: GeneratedOperation[] = [];
  for (const style of STYLES) {
    for (const root of roots) {
      const writer = new OperationWriter(schema, style, options.argumentValues ?? {});
      const body = writer.field(query, root, depth);
      if (!body) continue;
      for (const variables of writer.variableSets()) out.push({ name: `${root.name} (${style})`, query: writer.document(body), variables });
    }
  }
  const writer = new OperationWriter(schema, 'plain', options.argumentValues ?? {});
  const all = roots.flatMap((root) => writer.field(query, root, Math.min(depth, 2)) ?? []);
  out.push({ name: 'all root fields', query: writer.document(all.join(' ')), variables: {} });
  out.push({ name: 'typename and introspection', query: '{ __typename __schema { queryType { name } } t: __typename }', variables: {} });
  return out;
}

class OperationWriter {
  private readonly definitions: string[] = [];
  private readonly values: Record<string, unknown> = {};
  private readonly fragments = new Map<string, string>();
  private counter = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly style: Style,
    private readonly argumentValues: Record<string, unknown>,
  ) {}

  /** Variable sets to run the operation with: the conditions style runs both ways. */
  variableSets(): Array<Record<string, unknown>> {
    if (this.style !== 'conditions') return [{ ...this.values }];
    return [
      { ...this.values, yes: true },
      { ...this.values, yes: false },
    ];
  }

  document(body: string): string {
    const definitions = this.style === 'conditions' ? [...this.definitions, '$yes: Boolean!', '$no: Boolean = false'] : this.definitions;
    const header = definitions.length ? `query Generated(${definitions.join(', ')})` : 'query Generated';
    return [`${header} { ${body} }`, ...this.fragments.values()].join('\n');
  }

  /** One field with its arguments and selection; undefined when nothing under it can be selected. */
  field(parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>, depth: number, index = 0): string | undefined {
    const args = this.arguments(parent, field);
    if (args === undefined) return undefined;
    const type = getNamedType(field.type);
    let selection = '';
    if (isCompositeType(type)) {
      if (depth <= 0) return undefined;
      const inner = this.selection(type, depth - 1);
      if (!inner) return undefined;
      selection = ` { ${inner} }`;
    }
    const written = `${field.name}${args}${selection}`;
    switch (this.style) {
      case 'aliased':
        // Under an alias, then again under its own name: both land in the answer, in this order.
        return `${field.name}_a: ${written} ${written}`;
      case 'conditions':
        // Alternately included and skipped by $yes; some also under a defaulted variable or a literal.
        return `${field.name}${args} ${index % 2 === 0 ? '@include(if: $yes)' : '@skip(if: $yes)'}${index % 3 === 0 ? (index % 2 === 0 ? ' @skip(if: $no)' : ' @include(if: true)') : ''}${selection}`;
      default:
        return written;
    }
  }

  private selection(type: GraphQLCompositeType, depth: number): string | undefined {
    if (isAbstractType(type)) {
      // Every possible type in an inline fragment, after the abstract type's own fields.
      const own = isObjectType(type) || !('getFields' in type) ? '' : this.fields(type, depth);
      const parts = this.schema.getPossibleTypes(type).flatMap((possible) => {
        const inner = this.fields(possible, depth);
        return inner ? [`... on ${possible.name} { ${inner} }`] : [];
      });
      return ['__typename', own, ...parts].filter(Boolean).join(' ');
    }
    const fields = this.fields(type, depth);
    if (!fields) return undefined;
    if (this.style !== 'fragments') return fields;
    // A named fragment for the type, plus an inline fragment repeating one field (merged with the first).
    const name = `F_${type.name}_${++this.counter}`;
    this.fragments.set(name, `fragment ${name} on ${type.name} { ${fields} }`);
    const leaf = 'getFields' in type ? Object.values(type.getFields()).find((f) => !isCompositeType(getNamedType(f.type)) && f.args.every((a) => !isNonNullType(a.type))) : undefined;
    return `__typename ...${name} ... on ${type.name} { ${leaf?.name ?? '__typename'} }`;
  }

  private fields(type: GraphQLCompositeType, depth: number): string | undefined {
    if (!('getFields' in type)) return undefined;
    let fields = Object.values(type.getFields())
      .map((f, i) => this.field(type, f as GraphQLField<unknown, unknown>, depth, i))
      .filter((f): f is string => Boolean(f));
    if (this.style === 'reversed') fields = fields.reverse();
    return fields.length ? fields.join(' ') : undefined;
  }

  /** `(a: 1, b: $v0)` for the required arguments; undefined when one has no value to give. */
  private arguments(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>): string | undefined {
    const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
    if (required.length === 0) return '';
    const parts: string[] = [];
    for (const arg of required) {
      const value = this.valueFor(parent, field, arg);
      if (value === undefined) return undefined;
      if (this.style === 'conditions') {
        const name = `v${this.definitions.length}`;
        this.definitions.push(`$${name}: ${String(arg.type)}`);
        this.values[name] = JSON.parse(JSON.stringify(value));
        parts.push(`${arg.name}: $${name}`);
      } else {
        parts.push(`${arg.name}: ${literal(value)}`);
      }
    }
    return `(${parts.join(', ')})`;
  }

  private valueFor(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>, arg: GraphQLArgument): unknown {
    const key = `${parent.name}.${field.name}.${arg.name}`;
    if (key in this.argumentValues) return this.argumentValues[key];
    return this.valueOf(arg.type);
  }

  private valueOf(type: GraphQLInputType): unknown {
    if (isNonNullType(type)) return this.valueOf(type.ofType);
    if (isListType(type)) return [this.valueOf(type.ofType)];
    if (type.name in this.argumentValues) return this.argumentValues[type.name];
    if (isEnumType(type)) return new EnumValue(type.getValues()[0]?.name ?? '');
    if (isInputObjectType(type)) {
      const value: Record<string, unknown> = {};
      for (const f of Object.values(type.getFields())) if (isNonNullType(f.type)) value[f.name] = this.valueOf(f.type);
      return value;
    }
    switch (type.name) {
      case 'Int':
        return 1;
      case 'Float':
        return 1.5;
      case 'Boolean':
        return true;
      default:
        return '1';
    }
  }
}

/** An enum value: bare in a literal, its name in variables. */
class EnumValue {
  constructor(readonly name: string) {}
  toJSON(): string {
    return this.name;
  }
}

/** A value as a GraphQL literal. */
function literal(value: unknown): string {
  if (value instanceof EnumValue) return value.name;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (value && typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${literal(v)}`).join(', ')} }`;
  return JSON.stringify(value);
}
