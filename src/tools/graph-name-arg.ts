// The `graphName` argument every graph tool takes, its mapping to a key, and
// the graph rights (tenant graph rules, token `graphs` claim) checked on it.

import { z } from 'zod';
import { mayUseGraph, requireGraphRight, type GraphRules } from '../auth/graph-rules.js';
import type { Scope } from '../auth/scopes.js';
import { GRAPH_NAME_RULE } from '../tenancy/graph-name.js';
import { tenantGraphKey } from '../tenancy/keys.js';
import type { ToolContext } from './context.js';

export const graphNameArg = z.string().describe(`Name of one of your graphs: ${GRAPH_NAME_RULE}. Example: "movies".`);

/** The caller's key for `graphName`; throws GRAPH_NAME_INVALID with the rule. */
export function callerGraphKey(ctx: ToolContext, graphName: string): string {
  return tenantGraphKey(ctx.principal.tenant, graphName);
}

/** The graph rules of the caller's tenant; a failed lookup fails the call rather than dropping the rules. */
export async function callerGraphRules(ctx: ToolContext): Promise<GraphRules | undefined> {
  return ctx.tenantGraphRules?.();
}

/**
 * The caller's key for `graphName`, once the name is valid and the caller may
 * use `scope` on it; throws GRAPH_FORBIDDEN naming the rule that refused. The
 * check looks at names only, never at the database, so a refusal says nothing
 * about whether the graph exists.
 */
export async function authorizedGraphKey(ctx: ToolContext, graphName: string, scope: Scope, action: string): Promise<string> {
  const key = callerGraphKey(ctx, graphName);
  requireGraphRight(ctx.principal, await callerGraphRules(ctx), scope, graphName, action);
  return key;
}

/** Whether the caller may use `scope` on `graphName` (token scope, tenant rule and token claim). */
export function callerMayUseGraph(ctx: ToolContext, rules: GraphRules | undefined, scope: Scope, graphName: string): boolean {
  return mayUseGraph(ctx.principal, rules, scope, graphName);
}
