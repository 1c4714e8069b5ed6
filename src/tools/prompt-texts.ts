// The prompts the gateway offers: what each asks for, its arguments, and the
// check of the arguments a prompts/get brings. Pure: the schema a prompt
// embeds is read by prompts.ts.

import { GRAPH_VARIABLE } from './resource-uri.js';

export interface PromptArgumentSpec {
  name: string;
  description: string;
  required: boolean;
}

export interface PromptSpec {
  name: string;
  title: string;
  description: string;
  arguments: readonly PromptArgumentSpec[];
  /** The request to the model, for the (checked) arguments; the graph's schema follows it as an embedded resource. */
  text(args: Readonly<Record<string, string>>): string;
}

const GRAPH_ARGUMENT: PromptArgumentSpec = {
  name: GRAPH_VARIABLE,
  description: 'Name of one of your graphs (falkordb_list_graphs, or completion, lists them).',
  required: true,
};

export const PROMPTS: readonly PromptSpec[] = [
  {
    name: 'explore_graph',
    title: 'Explore a graph',
    description: 'Asks for a tour of one of your graphs: what it holds, how it is connected, and a few small example queries. Embeds the graph\'s schema.',
    arguments: [GRAPH_ARGUMENT],
    text: ({ graph }) =>
      [
        `Explore my FalkorDB graph "${graph}". Its schema (labels, relationship types, property keys, indexes, constraints) is attached.`,
        'Describe what the graph holds and how its node labels are connected, then run a few small read-only queries with falkordb_read_query',
        `(graphName "${graph}", always with a LIMIT) to show typical nodes and paths. End with questions this graph can answer.`,
      ].join(' '),
  },
  {
    name: 'write_cypher_query',
    title: 'Write a Cypher query',
    description: 'Asks for an openCypher query that answers a question about one of your graphs, written against the graph\'s schema (embedded).',
    arguments: [GRAPH_ARGUMENT, { name: 'question', description: 'The question the query should answer, in your own words.', required: true }],
    text: ({ graph, question }) =>
      [
        `Write an openCypher query for my FalkorDB graph "${graph}" that answers this question:`,
        '',
        question,
        '',
        'Use only the labels, relationship types and property keys in the attached schema, and pass literal values as parameters ($name).',
        `Check the query with falkordb_explain (graphName "${graph}") before running it; run it with falkordb_read_query,`,
        'or with falkordb_query only if it must change the graph. Show the query, then the answer.',
      ].join('\n'),
  },
  {
    name: 'check_query',
    title: 'Check a query before running it',
    description: 'Asks for a review of a Cypher query against one of your graphs before it runs: its schema (embedded), its plan from falkordb_explain, whether it writes.',
    arguments: [GRAPH_ARGUMENT, { name: 'query', description: 'The openCypher query to check.', required: true }],
    text: ({ graph, query }) =>
      [
        `Review this openCypher query for my FalkorDB graph "${graph}" before it runs:`,
        '',
        '```cypher',
        query,
        '```',
        '',
        `First call falkordb_explain with graphName "${graph}" and this query: it shows the plan without running anything, and says whether the query writes.`,
        'Then compare the query with the attached schema: labels, relationship types or properties that do not exist, a missing LIMIT, unbounded',
        'variable-length paths, cartesian products, scans an index would avoid. Say whether it is safe to run, and with which tool',
        '(falkordb_read_query for a read, falkordb_query for a write), and suggest a corrected query if it needs one.',
      ].join('\n'),
  },
];

const BY_NAME = new Map(PROMPTS.map((prompt) => [prompt.name, prompt]));

export function promptNamed(name: string): PromptSpec | undefined {
  return BY_NAME.get(name);
}

export function unknownPromptMessage(): string {
  return `there is no prompt of that name on this gateway; its prompts are ${PROMPTS.map((p) => p.name).join(', ')} (prompts/list describes them).`;
}

function argumentList(prompt: PromptSpec): string {
  return prompt.arguments.map((a) => a.name).join(', ');
}

export function unknownArgumentMessage(prompt: PromptSpec, name: string): string {
  const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
  return `Prompt ${prompt.name} has no argument ${shown}; its arguments are ${argumentList(prompt)}.`;
}

/**
 * The arguments of a prompts/get for `prompt`, checked: every one known,
 * every required one given and not blank, none longer than `maxLength`
 * characters. Returns the message that says what is wrong, or the arguments.
 */
export function checkPromptArguments(prompt: PromptSpec, given: Readonly<Record<string, string>> | undefined, maxLength: number): { args: Record<string, string> } | { error: string } {
  const args: Record<string, string> = { ...given };
  for (const name of Object.keys(args)) {
    if (!prompt.arguments.some((a) => a.name === name)) return { error: unknownArgumentMessage(prompt, name) };
  }
  for (const argument of prompt.arguments) {
    const value = args[argument.name];
    if (argument.required && (value === undefined || value.trim() === '')) {
      return { error: `Prompt ${prompt.name} needs the argument ${argument.name}: ${argument.description} Its arguments are ${argumentList(prompt)}.` };
    }
    if (value !== undefined && value.length > maxLength) {
      return { error: `${argument.name}: ${value.length} characters long; the limit is ${maxLength}.` };
    }
  }
  return { args };
}
