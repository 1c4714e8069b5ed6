// The check of a prompt's arguments.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PROMPTS, checkPromptArguments, promptNamed } from './prompt-texts.js';

const check = (name: string, args: Record<string, string> | undefined, max = 100) => checkPromptArguments(promptNamed(name)!, args, max);

describe('checkPromptArguments', () => {
  it('takes every required argument, and gives them back', () => {
    assert.deepEqual(check('write_cypher_query', { graph: 'movies', question: 'Who?' }), { args: { graph: 'movies', question: 'Who?' } });
  });

  it('names a missing or blank required argument, and the prompt\'s arguments', () => {
    assert.deepEqual(check('explore_graph', undefined), { error: 'Prompt explore_graph needs the argument graph: Name of one of your graphs (falkordb_list_graphs, or completion, lists them). Its arguments are graph.' });
    assert.match((check('check_query', { graph: 'g', query: ' ' }) as { error: string }).error, /needs the argument query/);
  });

  it('names an argument the prompt does not have', () => {
    assert.match((check('explore_graph', { graph: 'g', limit: '5' }) as { error: string }).error, /has no argument "limit"; its arguments are graph\./);
  });

  it('refuses an argument longer than the limit', () => {
    assert.deepEqual(check('write_cypher_query', { graph: 'g', question: 'x'.repeat(101) }), { error: 'question: 101 characters long; the limit is 100.' });
  });

  it('puts every argument it was given into the text of every prompt', () => {
    for (const prompt of PROMPTS) {
      const args = Object.fromEntries(prompt.arguments.map((a) => [a.name, `value-of-${a.name}`]));
      for (const value of Object.values(args)) assert.ok(prompt.text(args).includes(value), `${prompt.name}: ${value}`);
    }
  });
});
