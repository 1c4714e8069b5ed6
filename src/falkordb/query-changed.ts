// Whether a graph query changed its graph, told from the statistics FalkorDB
// sends with its reply. The one test behind the cache's invalidation, the
// audit trail's `write` and the wait for replicas after a write (Sentinel).

/**
 * True when any count in `stats` (as parseStats makes them) is not zero: nodes
 * created, properties set, indexes created, … The run time and the cached-
 * execution flag are not counts. A count of a kind FalkorDB adds later counts
 * as a change too: mistaking a read for a write costs an invalidation or a
 * wait, mistaking a write for a read would serve stale answers.
 */
export function queryChangedGraph(stats: Readonly<Record<string, number | boolean>>): boolean {
  return Object.values(stats).some((value) => typeof value === 'number' && value !== 0);
}
