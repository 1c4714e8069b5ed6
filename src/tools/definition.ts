// Shape of one tool: its schemas (made into JSON Schema once, at load), the
// scope a token needs to see it, and the work it does. The registration
// (tools/call.ts) wraps `run` with everything every call shares.

import type { ToolAnnotations } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import type { Scope } from '../tenancy/scopes.js';
import type { CallFacts, ToolContext } from './context.js';

export interface ToolDefinition<In extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  inputSchema: In;
  outputSchema: z.ZodRawShape;
  annotations: ToolAnnotations;
  /** The scope a token needs for the tool to appear in its tools/list (a call still checks its own rights). */
  listedFor: Scope;
  /** The structured result of one call; a throw becomes the tool error. `call` is what the audit records of it. */
  run(args: z.infer<z.ZodObject<In>>, ctx: ToolContext, call: CallFacts): Promise<Record<string, unknown>>;
}

/** The hints of a tool that only reads: a host may run it without asking, and running it again changes nothing. */
export const READS_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

export function defineTool<In extends z.ZodRawShape>(tool: ToolDefinition<In>): ToolDefinition<In> {
  return tool;
}
