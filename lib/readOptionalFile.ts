import { readFileSync } from 'node:fs';

/** A UTF-8 file's text, or undefined when there is no such file (any other failure throws). */
export function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
