import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where the base schemas come from: a git ref of the repository, or the files on disk. */
export type SchemaBase = { kind: 'git'; ref: string } | { kind: 'files' };

/**
 * `--base REF` reads each file at that ref (`git show REF:path`); without it, the committed files
 * (HEAD) when the root is a git work tree, else the files as they are on disk (a copy of the schema
 * folder, as the tests use).
 */
export function chooseBase(root: string, ref: string | undefined): SchemaBase {
  if (ref) return { kind: 'git', ref };
  try {
    const top = execFileSync('git', ['-C', root, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (resolve(top) === resolve(root)) return { kind: 'git', ref: 'HEAD' };
  } catch {
    // not a git work tree: the files on disk are the base
  }
  return { kind: 'files' };
}

/** A file's text at the base, or undefined when the base has no such file (a new supergraph). */
export function readBaseFile(root: string, base: SchemaBase, path: string): string | undefined {
  if (base.kind === 'files') {
    try {
      return readFileSync(resolve(root, path), 'utf8');
    } catch {
      return undefined;
    }
  }
  try {
    return execFileSync('git', ['-C', root, 'show', `${base.ref}:${path}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    if (/does not exist|exists on disk, but not in/.test(stderr)) return undefined;
    throw new Error(`git show ${base.ref}:${path}: ${stderr.trim() || (error as Error).message}`);
  }
}

export function describeBase(base: SchemaBase): string {
  return base.kind === 'git' ? `git ${base.ref}` : 'the files on disk';
}
