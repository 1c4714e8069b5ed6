// Resources, prompts and completions that read the database run as calls of
// the gateway's own operations, through everything a tool call passes
// (tools/call.ts): the tenant's rate, the token's scopes and graph rules, the
// one key-building function, the audit. A failure comes back as a JSON-RPC
// error carrying the same scrubbed words, and the same code, a tool error has.

import type { IncomingHttpHeaders } from 'node:http';
import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { callTool, registerTool, type RegisteredTool } from './call.js';
import type { CallFacts, Caller, ToolContext, ToolServices } from './context.js';
import { defineTool, READS_ONLY } from './definition.js';

/** Who sent one request, and what it came with: what buildServer knows of each request. */
export interface ContentRequest {
  caller: Caller;
  requestId: string;
  headers: IncomingHttpHeaders | undefined;
}

/** How the content handlers learn the request's caller (tools/index.ts gives it). */
export type RequestOf = (ctx: ServerContext) => ContentRequest;

/**
 * One operation, registered like a tool but never listed: its name (the MCP
 * method) is what the audit and metrics record it under.
 */
export function registerOperation<In extends z.ZodRawShape>(
  name: string,
  inputSchema: In,
  run: (args: z.infer<z.ZodObject<In>>, ctx: ToolContext, call: CallFacts) => Promise<Record<string, unknown>>,
): RegisteredTool {
  return registerTool(defineTool({ name, title: name, description: name, inputSchema, outputSchema: {}, annotations: READS_ONLY, listedFor: 'read', run }));
}

/** The result of a successful operation: its structured result and the JSON text of it (made once). */
export interface OperationResult {
  structured: Record<string, unknown>;
  text: string;
}

/**
 * Runs `operation` for the request's caller. A failure throws the JSON-RPC
 * error for it; `uri`, for resources/read, makes a missing graph the
 * resource-not-found error of that URI.
 */
export async function runOperation(
  services: ToolServices,
  request: ContentRequest,
  operation: RegisteredTool,
  args: Record<string, unknown>,
  uri?: string,
): Promise<OperationResult> {
  const result = await callTool(operation, args, request.caller, services, request.requestId, { headers: request.headers });
  const structured = (result.structuredContent ?? {}) as Record<string, unknown>;
  const block = result.content[0];
  const text = block?.type === 'text' ? block.text : JSON.stringify(structured);
  if (result.isError !== true) return { structured, text };
  const { code, message } = structured['error'] as { code: ErrorCode; message: string };
  throw protocolError(code, message, uri);
}

/** Codes that say the request named something wrong (an argument, a graph): JSON-RPC's invalid params. */
const INVALID_PARAMS: ReadonlySet<string> = new Set<ErrorCode>(['INVALID_ARGUMENT', 'GRAPH_NAME_INVALID', 'GRAPH_NOT_FOUND', 'QUERY_TOO_LONG']);

/**
 * The JSON-RPC error for a gateway error: `data.code` is the gateway's stable
 * code. A missing graph read as a resource is the SDK's resource-not-found
 * (`data` exactly `{uri}`, as clients recognise it).
 */
export function protocolError(code: ErrorCode, message: string, uri?: string): ProtocolError {
  if (uri !== undefined && code === 'GRAPH_NOT_FOUND') return new ResourceNotFoundError(uri, message);
  const wire = INVALID_PARAMS.has(code) ? ProtocolErrorCode.InvalidParams : code === 'INTERNAL' ? ProtocolErrorCode.InternalError : ProtocolErrorCode.InvalidRequest;
  return new ProtocolError(wire, message, { code });
}

/** A request that names something this gateway does not have, or leaves out what it needs: invalid params, said plainly. */
export function invalidParams(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, message, { code: 'INVALID_ARGUMENT' });
}
