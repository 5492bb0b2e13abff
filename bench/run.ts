// `npm run bench`: every benchmark, one after the other (each starts and stops its own stacks).
await import('./routerOverhead.ts');
await import('./fallbackPath.ts');
await import('./balancing.ts');
await import('./chatStreaming.ts');
await import('./federation/federationBench.ts');
