import { readFileSync } from 'node:fs';

/** Live bytes and objects of one kind in a heap snapshot. */
export interface HeapGroup {
  name: string;
  bytes: number;
  count: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * A V8 heap snapshot (`.heapsnapshot`, as `--heapsnapshot-signal` writes it) summed by what each
 * object is: its constructor for objects, its type for strings, arrays, code and the rest. Enough to
 * see what grows between two snapshots of one process; not a retainer analysis.
 */
export function summariseHeapSnapshot(path: string): Map<string, HeapGroup> {
  const data = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const groups = new Map<string, HeapGroup>();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]];
    const name = type === 'object' || type === 'closure' ? `${type === 'closure' ? 'closure ' : ''}${data.strings[data.nodes[i + nameAt]]}` : `(${type})`;
    let group = groups.get(name);
    if (!group) groups.set(name, (group = { name, bytes: 0, count: 0 }));
    group.bytes += data.nodes[i + sizeAt];
    group.count += 1;
  }
  return groups;
}

/** The kinds that grew most in bytes from `before` to `after`. */
export function heapGrowth(before: Map<string, HeapGroup>, after: Map<string, HeapGroup>, top = 8): Array<HeapGroup & { grewBytes: number; grewCount: number }> {
  return [...after.values()]
    .map((group) => {
      const was = before.get(group.name);
      return { ...group, grewBytes: group.bytes - (was?.bytes ?? 0), grewCount: group.count - (was?.count ?? 0) };
    })
    .sort((a, b) => b.grewBytes - a.grewBytes)
    .slice(0, top);
}
