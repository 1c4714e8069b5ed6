// The `graphName` argument every graph tool takes, and its mapping to a key.

import { z } from 'zod';
import { GRAPH_NAME_RULE } from '../tenancy/graph-name.js';
import { tenantGraphKey } from '../tenancy/keys.js';
import type { ToolContext } from './context.js';

export const graphNameArg = z.string().describe(`Name of one of your graphs: ${GRAPH_NAME_RULE}. Example: "movies".`);

/** The caller's key for `graphName`; throws GRAPH_NAME_INVALID with the rule. */
export function callerGraphKey(ctx: ToolContext, graphName: string): string {
  return tenantGraphKey(ctx.principal.tenant, graphName);
}
