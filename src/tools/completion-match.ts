// The values completion/complete offers for a graph name: the caller's graphs
// that start with what was typed (case aside), at most MAX_COMPLETIONS of them.

/** The spec's cap on the values of one completion. */
export const MAX_COMPLETIONS = 100;

export function completeNames(names: readonly string[], typed: string, max = MAX_COMPLETIONS): { values: string[]; total: number; hasMore: boolean } {
  const prefix = typed.toLowerCase();
  const matches = names.filter((name) => name.toLowerCase().startsWith(prefix)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { values: matches.slice(0, max), total: matches.length, hasMore: matches.length > max };
}
