// falkordb_create_constraint and falkordb_drop_constraint: unique and mandatory
// constraints, which FalkorDB takes only through GRAPH.CONSTRAINT, not Cypher.
//
// Both need the "write" scope on the graph, not "admin": a constraint is a rule on
// the data, like an index (which falkordb_query creates and drops with write), and
// neither tool removes data; admin stays for deleting whole graphs.

import { z } from 'zod';
import { GatewayError, isGatewayError } from '../errors.js';
import type { ConstraintSpec } from '../falkordb/graphs.js';
import type { CallFacts } from './context.js';
import { defineTool } from './definition.js';
import { authorizeGraph, graphNameArg } from './graph-name-arg.js';

const nameArg = (what: string) =>
  z
    .string()
    .min(1)
    .max(512)
    .refine((name) => !name.includes('`'), { message: 'must not contain a backtick (`)' })
    .describe(what);

const constraintArgs = {
  graphName: graphNameArg,
  kind: z.enum(['unique', 'mandatory']).describe('"unique": no two nodes (or relationships) share the values; "mandatory": every one has the properties.'),
  entity: z.enum(['node', 'relationship']).describe('Whether `label` is a node label or a relationship type.'),
  label: nameArg('The node label or relationship type, e.g. "Person".'),
  properties: z
    .array(nameArg('A property name.'))
    .min(1)
    .max(255)
    .refine((list) => new Set(list).size === list.length, { message: 'must not name a property twice' })
    .describe('The property names, e.g. ["email"]; several make one constraint on their combination.'),
};

const constraintOutput = {
  graph: z.string(),
  kind: z.enum(['unique', 'mandatory']),
  entity: z.enum(['node', 'relationship']),
  label: z.string(),
  properties: z.array(z.string()),
};

type ConstraintArgs = z.infer<z.ZodObject<typeof constraintArgs>>;

function specOf(args: ConstraintArgs): ConstraintSpec {
  return { kind: args.kind, entity: args.entity, label: args.label, properties: args.properties };
}

/** Both tools change the graph's rules, so the audit counts them as writes; the label and properties are the caller's own words. */
function recordAsWrite(call: CallFacts, args: ConstraintArgs): void {
  call.write = true;
  call.callerInput = [args.graphName, args.label, ...args.properties].join(' ');
}

const echo = (args: ConstraintArgs) => ({ graph: args.graphName, kind: args.kind, entity: args.entity, label: args.label, properties: args.properties });

export const createConstraintTool = defineTool({
  name: 'falkordb_create_constraint',
  title: 'Create a constraint',
  description: [
    'Creates a unique or mandatory constraint on a node label or relationship type of one of your graphs (Cypher cannot: FalkorDB takes constraints only through this tool).',
    'A unique constraint needs an exact-match (range) index on its properties: one is created for any property that has none (indexCreated: true).',
    'FalkorDB checks the existing data against a new constraint; if the data breaks it, nothing is kept and the call fails saying so. status is OPERATIONAL, or UNDER CONSTRUCTION if the check outlasts the time limit (falkordb_graph_schema shows it later).',
    'Creating a constraint that exists already succeeds with created: false. On a graph that does not exist yet it creates the graph.',
    'Needs the "write" scope on the graph: like an index, a constraint is a rule on the data and removes none.',
    'Example: {"graphName": "people", "kind": "unique", "entity": "node", "label": "Person", "properties": ["email"]}',
  ].join(' '),
  inputSchema: constraintArgs,
  outputSchema: { ...constraintOutput, created: z.boolean(), indexCreated: z.boolean(), status: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  listedFor: 'write',
  run: async (args, ctx, call) => {
    recordAsWrite(call, args);
    const { key } = await authorizeGraph(ctx, args.graphName, 'write', 'Creating a constraint');
    return { ...echo(args), ...(await ctx.graphs.createConstraint(key, specOf(args), ctx.limits.timeoutMs)) };
  },
});

export const dropConstraintTool = defineTool({
  name: 'falkordb_drop_constraint',
  title: 'Drop a constraint',
  description: [
    'Drops a unique or mandatory constraint from one of your graphs; name it as falkordb_graph_schema lists it (kind, entity, label, properties).',
    'The data stays; so does the index a unique constraint used (drop it with falkordb_query: DROP INDEX FOR (n:Label) ON (n.property)).',
    'Returns dropped: false when there was no such constraint. Needs the "write" scope on the graph.',
    'Example: {"graphName": "people", "kind": "unique", "entity": "node", "label": "Person", "properties": ["email"]}',
  ].join(' '),
  inputSchema: constraintArgs,
  outputSchema: { ...constraintOutput, dropped: z.boolean() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  listedFor: 'write',
  run: async (args, ctx, call) => {
    recordAsWrite(call, args);
    const { key } = await authorizeGraph(ctx, args.graphName, 'write', 'Dropping a constraint');
    try {
      return { ...echo(args), dropped: await ctx.graphs.dropConstraint(key, specOf(args), ctx.limits.timeoutMs) };
    } catch (error) {
      if (isGatewayError(error) && error.code === 'GRAPH_NOT_FOUND') {
        throw new GatewayError('GRAPH_NOT_FOUND', `Graph "${args.graphName}" does not exist. falkordb_list_graphs lists your graphs.`);
      }
      throw error;
    }
  },
});
