// Shape of one tool: its schemas (built once at load) and its handler.

import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { ToolContext } from './context.js';

export interface ToolDefinition<In extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  inputSchema: In;
  outputSchema: z.ZodRawShape;
  annotations: ToolAnnotations;
  handler(args: z.infer<z.ZodObject<In>>, ctx: ToolContext): Promise<CallToolResult>;
}

export function defineTool<In extends z.ZodRawShape>(tool: ToolDefinition<In>): ToolDefinition<In> {
  return tool;
}
