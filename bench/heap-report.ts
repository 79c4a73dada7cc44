// What holds a process's heap: the objects that retain the most of a V8 heap snapshot (bench/sharded.ts
// --heap-snapshots DIR writes them; DevTools' Memory panel reads them too), each with its retained size — what a
// collection would free were it gone — and the path of properties from the root that keeps it. Retained sizes come
// from the dominator tree (Cooper, Harvey and Kennedy's iterative algorithm over a reverse postorder); weak edges
// keep nothing.
//
//   node --max-old-space-size=8000 bench/heap-report.ts .cache/bench/heap/replica-1-20000x4.heapsnapshot [MiB]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [file, least = '1.5'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/heap-report.ts FILE.heapsnapshot [least MiB shown]');
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const meta = snap.snapshot.meta;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const field = { type: meta.node_fields.indexOf('type'), name: meta.node_fields.indexOf('name'), size: meta.node_fields.indexOf('self_size'), edges: meta.node_fields.indexOf('edge_count') };
const edgeField = { type: meta.edge_fields.indexOf('type'), name: meta.edge_fields.indexOf('name_or_index'), to: meta.edge_fields.indexOf('to_node') };
const { nodes, edges, strings } = snap;
const count = nodes.length / NF;
const WEAK = meta.edge_types[0].indexOf('weak');

const firstEdge = new Uint32Array(count + 1);
for (let v = 0, e = 0; v < count; v++) {
  firstEdge[v] = e;
  e += nodes[v * NF + field.edges]! * EF;
}
firstEdge[count] = edges.length;
const targetsOf = function* (v: number): Generator<number> {
  for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += EF) if (edges[e + edgeField.type] !== WEAK) yield edges[e + edgeField.to]! / NF;
};

// Postorder from the root (node 0), iteratively.
const order = new Int32Array(count).fill(-1);
const postorder: number[] = [];
const seen = new Uint8Array(count);
const stack: [number, Generator<number>][] = [[0, targetsOf(0)]];
seen[0] = 1;
while (stack.length > 0) {
  const [v, next] = stack.at(-1)!;
  const step = next.next();
  if (step.done) {
    stack.pop();
    order[v] = postorder.length;
    postorder.push(v);
  } else if (!seen[step.value]) {
    seen[step.value] = 1;
    stack.push([step.value, targetsOf(step.value)]);
  }
}
const predecessors: number[][] = Array.from({ length: count }, () => []);
for (const v of postorder) for (const w of targetsOf(v)) predecessors[w]!.push(v);

const idom = new Int32Array(count).fill(-1);
idom[0] = 0;
const intersect = (a: number, b: number) => {
  while (a !== b) {
    while (order[a]! < order[b]!) a = idom[a]!;
    while (order[b]! < order[a]!) b = idom[b]!;
  }
  return a;
};
for (let changed = true; changed; ) {
  changed = false;
  for (let k = postorder.length - 1; k >= 0; k--) {
    const v = postorder[k]!;
    if (v === 0) continue;
    let dom = -1;
    for (const u of predecessors[v]!) if (idom[u] !== -1) dom = dom === -1 ? u : intersect(u, dom);
    if (dom !== -1 && idom[v] !== dom) {
      idom[v] = dom;
      changed = true;
    }
  }
}
const retained = new Float64Array(count);
for (const v of postorder) {
  retained[v]! += nodes[v * NF + field.size]!;
  if (v !== 0) retained[idom[v]!]! += retained[v]!;
}

const label = (v: number) => `${meta.node_types[0][nodes[v * NF + field.type]!]}:${String(strings[nodes[v * NF + field.name]!]).slice(0, 40)}`;
const edgeName = (from: number, to: number) => {
  for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += EF) {
    if (edges[e + edgeField.to]! / NF !== to) continue;
    const type = meta.edge_types[0][edges[e + edgeField.type]!];
    const name = edges[e + edgeField.name]!;
    return type === 'element' || type === 'hidden' ? `[${name}]` : String(strings[name]);
  }
  return '…';
};
const pathTo = (v: number) => {
  const names: string[] = [];
  for (let x = v, i = 0; x !== 0 && i < 6; x = idom[x]!, i++) names.push(`${edgeName(idom[x]!, x)}(${label(x).split(':')[1]})`);
  return names.reverse().join(' › ');
};
const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
console.log(`${file}: ${mib(retained[0]!)} MiB in ${count} objects; those retaining at least ${least} MiB:`);
const big = [...Array(count).keys()].filter((v) => v !== 0 && retained[v]! >= Number(least) * 1048576).sort((a, b) => retained[b]! - retained[a]!);
for (const v of big.slice(0, 60)) console.log(`${mib(retained[v]!).padStart(7)} MiB  ${label(v).padEnd(40)}  ${pathTo(v)}`);
