import type { ResponsePath } from '@apollo/query-planner';

type Path = Array<string | number>;

/**
 * Maps the paths of a fetch's errors onto the client's response, as @apollo/gateway does. An entity
 * fetch's error at `["_entities", i, ...rest]` lands on the i-th entity the fetch's path reaches in the
 * result (lists expanded, missing and null branches skipped), followed by `rest`; any other error's path
 * is prefixed with the fetch's path. The entities are enumerated only when an error needs them, and
 * once per fetch.
 */
export function errorPathMapper(isEntityFetch: boolean, cursorPath: ResponsePath, fullResult: Record<string, unknown>): (path: unknown) => Path | undefined {
  let hydrated: Path[] | undefined;
  return (errorPath) => {
    const path = Array.isArray(errorPath) ? (errorPath as Path) : undefined;
    if (isEntityFetch && typeof path?.[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        hydrate([], cursorPath, 0, fullResult, hydrated);
      }
      return [...(hydrated[path[1]] ?? []), ...path.slice(2)];
    }
    return path ? [...cursorPath, ...path] : undefined;
  };
}

function hydrate(parent: Path, path: ResponsePath, at: number, data: unknown, out: Path[]): void {
  if (data === null || data === undefined) return;
  if (at === path.length) {
    out.push(parent.slice());
    return;
  }
  const head = path[at];
  if (head === '@') {
    if (!Array.isArray(data)) throw new Error('expected array when encountering `@`');
    data.forEach((value, i) => {
      parent.push(i);
      hydrate(parent, path, at + 1, value, out);
      parent.pop();
    });
  } else if (typeof head === 'string') {
    if (Array.isArray(data)) {
      data.forEach((value, i) => {
        parent.push(i);
        hydrate(parent, path, at, value, out);
        parent.pop();
      });
    } else if (Object.hasOwn(data as object, head)) {
      parent.push(head);
      hydrate(parent, path, at + 1, (data as Record<string, unknown>)[head], out);
      parent.pop();
    }
  } else {
    throw new Error(`unknown path part "${head}"`);
  }
}
