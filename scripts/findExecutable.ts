import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Where Debian puts daemons (haproxy is /usr/sbin/haproxy), which a non-root PATH often leaves out. */
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The path of an executable on PATH (or in the system daemon folders), or undefined; an absolute path is checked as it is. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined;
  for (const dir of [...path.split(delimiter).filter(Boolean), ...SYSTEM_DIRS]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
