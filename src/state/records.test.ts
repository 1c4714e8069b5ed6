// parseRecord on its own: what a stored record that does not fit its schema is
// refused with, and what a record with fields this version does not know keeps.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { parseRecord } from './records.js';

const schema = z.object({
  name: z.string(),
  tags: z.array(z.string().refine((v) => v !== 'bad', 'is not a tag')),
  limits: z.object({ max: z.number() }).optional(),
});

function refusal(text: string): GatewayError {
  try {
    parseRecord('sample', 'gw:sample:{x}', text, schema);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'STATE_RECORD_INVALID');
    assert.deepEqual(error.details, { key: 'gw:sample:{x}', kind: 'sample' });
    return error;
  }
  assert.fail(`${text} was accepted`);
}

describe('parseRecord', () => {
  it('returns the record, keeping fields the schema does not name', () => {
    assert.deepEqual(parseRecord('sample', 'k', '{"name":"a","tags":[],"extra":1}', schema), { name: 'a', tags: [], extra: 1 });
  });

  it('names the field by its path, continuing our own messages', () => {
    assert.match(refusal('{"name":"a","tags":["ok","bad"]}').message, /^The sample record stored at gw:sample:\{x\} cannot be read: tags\[1\] is not a tag\. /);
  });

  it('names a nested field, with zod\'s message after a colon', () => {
    assert.match(refusal('{"name":"a","tags":[],"limits":{"max":"ten"}}').message, /cannot be read: limits\.max: invalid input: expected number, received string\. /);
  });

  it('never quotes the value it refused', () => {
    assert.ok(!refusal('{"name":42,"tags":["hunter2"]}').message.includes('hunter2'));
  });

  it('says when the stored text is not JSON, without the parse error (it quotes the text) as its cause', () => {
    const error = refusal('{"name":"hunter2"');
    assert.match(error.message, /cannot be read: it is not JSON\. /);
    assert.equal(error.cause, undefined);
  });

  it('names the record itself when it is not an object', () => {
    assert.match(refusal('[1,2]').message, /cannot be read: the record itself: invalid input: expected object, received array\. /);
  });
});
