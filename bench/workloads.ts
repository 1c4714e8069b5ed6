// The three workloads, as Cypher text plus parameters, the same for every system.

import type { WorkloadName } from './protocol.js';

export interface Workload {
  name: WorkloadName;
  title: string;
  query: string;
  readOnly: boolean;
  /** Parameters of one call on a graph of `nodes` nodes; undefined for none. */
  params(nodes: number): Record<string, number> | undefined;
  /** Rows one call returns (checked once per cell). */
  expectedRows: number;
}

const randomId = (nodes: number) => Math.floor(Math.random() * nodes);

export const WORKLOAD_SPECS: Record<WorkloadName, Workload> = {
  return1: {
    name: 'return1',
    title: '`RETURN 1`',
    query: 'RETURN 1',
    readOnly: true,
    params: () => undefined,
    expectedRows: 1,
  },
  read1hop: {
    name: 'read1hop',
    title: '1-hop read, indexed lookup',
    query: 'MATCH (a:P {id: $id})-[:K]->(b) RETURN b.id',
    readOnly: true,
    params: (nodes) => ({ id: randomId(nodes) }),
    expectedRows: 2,
  },
  write: {
    name: 'write',
    title: 'parameterized write (SET one property)',
    query: 'MATCH (a:P {id: $id}) SET a.v = $v',
    readOnly: false,
    params: (nodes) => ({ id: randomId(nodes), v: Math.floor(Math.random() * 1e9) }),
    expectedRows: 0,
  },
};
