// The `graphName` argument every graph tool takes, its mapping to a key, and
// the graph rights (tenant graph rules, token `graphs` claim) checked on it.

import { z } from 'zod';
import { mayUseGraph, requireGraphRight, type GraphRules } from '../tenancy/graph-rules.js';
import { requireScope, type Scope } from '../tenancy/scopes.js';
import { GRAPH_NAME_RULE } from '../tenancy/graph-name.js';
import { tenantGraphKey, tenantGraphsAmong } from '../tenancy/keys.js';
import type { ToolContext } from './context.js';

export const graphNameArg = z.string().describe(`Name of one of your graphs: ${GRAPH_NAME_RULE}. Example: "movies".`);

/** The caller's key for `graphName`; throws GRAPH_NAME_INVALID with the rule. */
export function callerGraphKey(ctx: ToolContext, graphName: string): string {
  return tenantGraphKey(ctx.principal.tenant, graphName);
}

/**
 * Checks, in this order, that the token has `scope` (SCOPE_MISSING), that
 * `graphName` is valid (GRAPH_NAME_INVALID), and that neither the tenant's rule
 * nor the token's claim refuses `scope` on it (GRAPH_FORBIDDEN naming the rule).
 * The rules look at names only, never at the database, so a refusal says nothing
 * about whether the graph exists. Returns the caller's key and the tenant's
 * graph rules, for a further check on the same graph.
 */
export async function authorizeGraph(ctx: ToolContext, graphName: string, scope: Scope, action: string): Promise<{ key: string; rules: GraphRules | undefined }> {
  requireScope(ctx.principal, scope, action);
  const key = callerGraphKey(ctx, graphName);
  const rules = await ctx.graphRules();
  requireGraphRight(ctx.principal, rules, scope, graphName, action);
  return { key, rules };
}

/** The caller's graphs among `keys` that it may read: what falkordb_list_graphs lists and falkordb_health counts. */
export function readableGraphs(ctx: ToolContext, rules: GraphRules | undefined, keys: readonly string[]): string[] {
  return tenantGraphsAmong(ctx.principal.tenant, keys).filter((graph) => mayUseGraph(ctx.principal, rules, 'read', graph));
}
