import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { AuditModuleHooksData } from './auditModuleHooks.ts';

const OWN_ROOT = new URL('../../package.json', import.meta.url).href;

let registered: string | undefined;

/**
 * Lets this process import the audit's TypeScript from `sourceDir` (its `src/`) with our tsx and our
 * node_modules: bare imports in those files resolve from our root, `fets` to a stand-in of ours. Call
 * once per process, before the first import of an audit file.
 */
export function registerAuditModules(sourceDir: string): void {
  const auditSourceUrl = pathToFileURL(sourceDir.endsWith('/') ? sourceDir : `${sourceDir}/`).href;
  if (registered) {
    if (registered !== auditSourceUrl) throw new Error(`audit modules are already registered from ${registered}`);
    return;
  }
  registered = auditSourceUrl;
  const data: AuditModuleHooksData = {
    auditSourceUrl,
    ownRootUrl: OWN_ROOT,
    standIns: { fets: new URL('./fetsStandIn.ts', import.meta.url).href },
  };
  register('./auditModuleHooks.ts', { parentURL: import.meta.url, data });
}
