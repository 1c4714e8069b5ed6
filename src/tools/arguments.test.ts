// Tool argument errors as the caller reads them: the field and the rule it broke, never the value sent.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { describeArgumentIssues } from './arguments.js';
import { queryTool } from './query.js';

const QUERY_INPUT = z.object(queryTool.inputSchema);

function refusal(args: Record<string, unknown>): string {
  const parsed = QUERY_INPUT.safeParse(args);
  assert.equal(parsed.success, false, 'the arguments were expected to be refused');
  return describeArgumentIssues(parsed.error!.issues, args);
}

describe('describeArgumentIssues', () => {
  it('says a missing argument is required, and of what kind', () => {
    assert.equal(refusal({ graphName: 'movies' }), 'query: required, a string');
  });

  it('names each wrong field with the kind it must be, joined in one sentence', () => {
    assert.equal(refusal({ graphName: 'movies', query: 'RETURN 1', readOnly: 'yes', parameters: [] }), 'parameters: expected an object; readOnly: expected a boolean');
  });

  it('states the bound a value broke', () => {
    assert.equal(refusal({ graphName: 'movies', query: '' }), 'query: must not be empty');
    assert.equal(refusal({ graphName: 'movies', query: 'RETURN 1', timeoutMs: 0 }), 'timeoutMs: must be greater than 0');
    assert.equal(refusal({ graphName: 'movies', query: 'RETURN 1', timeoutMs: 1.5 }), 'timeoutMs: expected an integer');
  });

  it('never repeats the value that was sent', () => {
    const text = refusal({ graphName: 'movies', query: 'RETURN 1', readOnly: 'secret-value-123' });
    assert.doesNotMatch(text, /secret-value-123/);
  });
});
