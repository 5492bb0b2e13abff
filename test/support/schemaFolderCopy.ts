import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** A scratch copy of what composition reads (rover configs and schema/) and the topology naming it, to change SDLs without touching the repository. */
export interface SchemaFolderCopy {
  root: string;
  /** Rewrites a file under the copy with `edit` applied to its text. */
  edit(path: string, edit: (text: string) => string): void;
  remove(): void;
}

export function copySchemaFolder(): SchemaFolderCopy {
  const root = mkdtempSync(join(tmpdir(), 'schema-copy-'));
  cpSync(join(ROOT, 'schema'), join(root, 'schema'), { recursive: true });
  cpSync(join(ROOT, 'rover.yaml'), join(root, 'rover.yaml'));
  // The reference topology names the composed files relative to itself: copied, it names the copies.
  cpSync(join(ROOT, 'topology.yaml'), join(root, 'topology.yaml'));
  for (const name of ['identity', 'commerce']) {
    mkdirSync(join(root, 'supergraphs', name), { recursive: true });
    cpSync(join(ROOT, 'supergraphs', name, 'supergraph.yaml'), join(root, 'supergraphs', name, 'supergraph.yaml'));
  }
  return {
    root,
    edit(path, edit) {
      const file = join(root, path);
      const before = readFileSync(file, 'utf8');
      const after = edit(before);
      if (after === before) throw new Error(`the edit changed nothing in ${path}`);
      writeFileSync(file, after);
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
