// completion/complete: the graph-name argument of every prompt and of the
// schema resource template completes from the caller's own graphs (those it
// may read, as falkordb_list_graphs lists them); other arguments have none.

import type { Server } from '@modelcontextprotocol/server';
import type { ToolServices } from './context.js';
import { completeNames } from './completion-match.js';
import { invalidParams, registerOperation, runOperation, type RequestOf } from './content-call.js';
import { listGraphsTool } from './list-graphs.js';
import { promptNamed, unknownArgumentMessage, unknownPromptMessage } from './prompt-texts.js';
import { GRAPH_VARIABLE, SCHEMA_URI_TEMPLATE } from './resource-uri.js';

export const COMPLETIONS_CAPABILITY = {} as const;

const GRAPH_NAMES = registerOperation('completion/complete', {}, (args, ctx, call) => listGraphsTool.run(args, ctx, call));

const NONE = { completion: { values: [], total: 0, hasMore: false } };

type Reference = { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string };

/** Whether the argument completes to graph names; throws invalid params for a reference or argument this gateway does not have. */
function completesGraph(ref: Reference, argument: string): boolean {
  if (ref.type === 'ref/prompt') {
    const prompt = promptNamed(ref.name);
    if (prompt === undefined) throw invalidParams(`ref: ${unknownPromptMessage()}`);
    if (!prompt.arguments.some((a) => a.name === argument)) throw invalidParams(`argument: ${unknownArgumentMessage(prompt, argument)}`);
    return argument === GRAPH_VARIABLE;
  }
  if (ref.uri !== SCHEMA_URI_TEMPLATE) throw invalidParams(`ref: this gateway has one resource template, ${SCHEMA_URI_TEMPLATE}; give its uriTemplate as the uri.`);
  if (argument !== GRAPH_VARIABLE) throw invalidParams(`argument: the template ${SCHEMA_URI_TEMPLATE} has one variable, ${GRAPH_VARIABLE}.`);
  return true;
}

export function registerCompletions(server: Server, services: ToolServices, requestOf: RequestOf): void {
  server.setRequestHandler('completion/complete', async (request, ctx) => {
    const caller = requestOf(ctx);
    const { ref, argument } = request.params;
    if (!completesGraph(ref as Reference, argument.name)) return NONE;
    const { structured } = await runOperation(services, caller, GRAPH_NAMES, {});
    return { completion: completeNames(structured['graphs'] as string[], argument.value) };
  });
}
