import { loadTopology, readSupergraphSdl } from '../../lib/topology/loadTopology.ts';

/** A composed supergraph SDL of the reference deployment (topology.yaml), by supergraph name. */
export function referenceSupergraphSdl(name: string): string {
  return readSupergraphSdl(loadTopology(), name);
}
