// prompts/list and prompts/get: the prompts of prompt-texts.ts, each with the
// schema of the caller's graph embedded, read through falkordb_graph_schema's
// code (scopes, graph rules, the schema cache). A graph the caller does not
// have (another tenant's among them) is the same "does not exist" as any other.

import type { Prompt, Server } from '@modelcontextprotocol/server';
import type { ToolServices } from './context.js';
import { invalidParams, registerOperation, runOperation, type RequestOf } from './content-call.js';
import { graphNameArg } from './graph-name-arg.js';
import { graphSchemaTool } from './graph-schema.js';
import { PROMPTS, checkPromptArguments, promptNamed, unknownPromptMessage } from './prompt-texts.js';
import { GRAPH_VARIABLE, schemaUri } from './resource-uri.js';

/** The prompts never change while a gateway runs. */
export const PROMPTS_CAPABILITY = { listChanged: false } as const;

/** On the 2026-07-28 revision: the same for every caller and changed only with the gateway's version; kept private like the tool list. */
export const PROMPT_CACHE_HINTS = { 'prompts/list': { ttlMs: 3_600_000, cacheScope: 'private' } } as const;

const LISTED: { prompts: Prompt[] } = {
  prompts: PROMPTS.map((prompt) => ({
    name: prompt.name,
    title: prompt.title,
    description: prompt.description,
    arguments: prompt.arguments.map((a) => ({ name: a.name, description: a.description, required: a.required })),
  })),
};

const READ_SCHEMA = registerOperation('prompts/get', { graphName: graphNameArg }, (args, ctx, call) => graphSchemaTool.run(args, ctx, call));

export function registerPrompts(server: Server, services: ToolServices, requestOf: RequestOf): void {
  server.setRequestHandler('prompts/list', (_request, ctx) => {
    requestOf(ctx);
    return LISTED;
  });

  server.setRequestHandler('prompts/get', async (request, ctx) => {
    const caller = requestOf(ctx);
    const prompt = promptNamed(request.params.name);
    if (prompt === undefined) throw invalidParams(`name: ${unknownPromptMessage()}`);
    const checked = checkPromptArguments(prompt, request.params.arguments, services.limits.maxQueryLength);
    if ('error' in checked) throw invalidParams(checked.error);
    const graph = checked.args[GRAPH_VARIABLE]!;
    const schema = await runOperation(services, caller, READ_SCHEMA, { graphName: graph });
    return {
      description: prompt.description,
      messages: [
        { role: 'user', content: { type: 'text', text: prompt.text(checked.args) } },
        { role: 'user', content: { type: 'resource', resource: { uri: schemaUri(graph), mimeType: 'application/json', text: schema.text } } },
      ],
    };
  });
}
