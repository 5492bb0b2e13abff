import {
  defaultFieldResolver,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { stringTooLong } from '../lib/errors.ts';

/** The sentence a description uses to state the limit; the same text clients read in the schema. */
const LIMIT_SENTENCE = /\bAt most ([\d,]+) characters\./;

/** The length limit a description documents (`At most 64 characters.`), if any. */
export function documentedLengthLimit(description: string | null | undefined): number | undefined {
  const match = description ? LIMIT_SENTENCE.exec(description) : null;
  return match ? Number(match[1].replaceAll(',', '')) : undefined;
}

type Check = (value: unknown, path: string) => void;

/** Characters as a reader counts them (code points), counted only when the UTF-16 length leaves a doubt. */
function longerThan(value: string, limit: number): boolean {
  if (value.length <= limit) return false;
  if (value.length > 2 * limit) return true;
  let count = 0;
  for (const _ of value) if (++count > limit) return true;
  return false;
}

/**
 * Makes every String and ID argument of a subgraph (and every such field of its input objects, at
 * any depth) keep the length limit its SDL description documents, before the resolver runs: over
 * it, the field fails with BAD_USER_INPUT naming the argument, and nothing reaches the store. A
 * 60,000-character tag used to reach SQLite's LIKE and fail as INTERNAL_SERVER_ERROR ("pattern too
 * complex"); now no string gets to the store unbounded. The description is the one declaration:
 * what clients read in the schema is what is enforced, and a String or ID argument without
 * `At most N characters.` in its description stops the subgraph at start-up, so a new argument
 * cannot slip in unbounded. Resolvers are wrapped in place; fields without string inputs are untouched.
 */
export function enforceStringArgumentLimits(schema: GraphQLSchema): GraphQLSchema {
  const inputObjectChecks = new Map<string, Check | null>();

  const checkOf = (type: GraphQLInputType, coordinate: string, description: string | null | undefined): Check | null => {
    if (isNonNullType(type)) return checkOf(type.ofType, coordinate, description);
    if (isListType(type)) {
      const item = checkOf(type.ofType, coordinate, description);
      if (!item) return null;
      return (value, path) => (Array.isArray(value) ? value.forEach((v, i) => v != null && item(v, `${path}[${i}]`)) : item(value, path));
    }
    if (isScalarType(type) && (type.name === 'String' || type.name === 'ID')) {
      const limit = documentedLengthLimit(description);
      if (limit === undefined) {
        throw new Error(`${coordinate} is an unbounded ${type.name}: add "At most N characters." to its description.`);
      }
      return (value, path) => {
        if (typeof value === 'string' && longerThan(value, limit)) throw stringTooLong(path, limit);
      };
    }
    if (!isInputObjectType(type)) return null;
    if (inputObjectChecks.has(type.name)) {
      // Known, or being built (a recursive input type): look it up when a value arrives.
      return (value, path) => inputObjectChecks.get(type.name)?.(value, path);
    }
    inputObjectChecks.set(type.name, null);
    const fields = Object.values(type.getFields()).flatMap((field) => {
      const check = checkOf(field.type, `${type.name}.${field.name}`, field.description);
      return check ? [[field.name, check] as const] : [];
    });
    const check: Check | null = fields.length
      ? (value, path) => {
          if (value === null || typeof value !== 'object') return;
          for (const [name, fieldCheck] of fields) {
            const fieldValue = (value as Record<string, unknown>)[name];
            if (fieldValue != null) fieldCheck(fieldValue, `${path}.${name}`);
          }
        }
      : null;
    inputObjectChecks.set(type.name, check);
    return check;
  };

  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const checks = field.args.flatMap((arg) => {
        const check = checkOf(arg.type, `${type.name}.${field.name}(${arg.name}:)`, arg.description);
        return check ? [[arg.name, check] as const] : [];
      });
      if (!checks.length) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args: Record<string, unknown>, context, info) => {
        for (const [name, check] of checks) if (args[name] != null) check(args[name], name);
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
