import { readFileSync } from 'node:fs';
import { readRecordedOperationsFromRedis } from '../../router/observability/operationRecorder.ts';
import { readRecordedOperationsFile } from '../../router/observability/recordedOperation.ts';
import type { KnownOperation } from './operationChecks.ts';

export interface OperationSources {
  /** A trusted-documents manifest (Apollo's persisted-query manifest or a flat hash → document map). */
  manifest?: string;
  /** The router's recorded-operations file. */
  recordedFile?: string;
  /** Redis holding the routers' shared record. */
  redisUrl?: string;
}

/** Every operation the sources know, manifest first. */
export async function loadKnownOperations(sources: OperationSources): Promise<KnownOperation[]> {
  const operations: KnownOperation[] = [];
  if (sources.manifest) {
    const json = JSON.parse(readFileSync(sources.manifest, 'utf8')) as Record<string, unknown>;
    if (json.format === 'apollo-persisted-query-manifest' && Array.isArray(json.operations)) {
      for (const op of json.operations as Array<{ name?: string; body: string }>) operations.push({ name: op.name ?? null, document: op.body, source: 'manifest' });
    } else {
      for (const body of Object.values(json)) if (typeof body === 'string') operations.push({ name: null, document: body, source: 'manifest' });
    }
  }
  const recorded = [
    ...(sources.recordedFile ? readRecordedOperationsFile(sources.recordedFile) : []),
    ...(sources.redisUrl ? await readRecordedOperationsFromRedis(sources.redisUrl) : []),
  ];
  for (const op of recorded) operations.push({ name: op.name, document: op.document, source: 'recorded', lastSeen: op.lastSeen });
  return operations;
}
