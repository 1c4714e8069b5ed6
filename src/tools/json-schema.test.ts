// The portable forms of the tools' JSON Schemas: one type per schema, `true` for "anything".

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { portable, toolJsonSchema } from './json-schema.js';

describe('portable JSON Schema', () => {
  it('splits a type array into anyOf branches of one type each, keeping the other keywords', () => {
    assert.deepEqual(portable({ type: ['string', 'null'], description: 'd' }), { description: 'd', anyOf: [{ type: 'string' }, { type: 'null' }] });
    assert.deepEqual(portable({ type: ['number'] }), { type: 'number' });
  });

  it('keeps an anyOf already there as a second condition, under allOf', () => {
    assert.deepEqual(portable({ type: ['string', 'number'], anyOf: [{ minLength: 1 }, { minimum: 1 }] }), {
      anyOf: [{ minLength: 1 }, { minimum: 1 }],
      allOf: [{ anyOf: [{ type: 'string' }, { type: 'number' }] }],
    });
  });

  it('writes an empty sub-schema as true, at any depth, and leaves the rest as it was', () => {
    const schema = { type: 'object', properties: { rows: { type: 'array', items: { type: 'object', additionalProperties: {} } }, n: { type: ['integer', 'null'] } }, required: ['rows'] };
    assert.deepEqual(portable(schema), {
      type: 'object',
      properties: { rows: { type: 'array', items: { type: 'object', additionalProperties: true } }, n: { anyOf: [{ type: 'integer' }, { type: 'null' }] } },
      required: ['rows'],
    });
  });

  it('turns what zod writes for nullable fields and free-form maps into those forms', () => {
    const schema = toolJsonSchema(z.object({ at: z.string().nullable(), values: z.record(z.string(), z.unknown()) }), 'output');
    const text = JSON.stringify(schema);
    assert.doesNotMatch(text, /"type":\[/);
    assert.doesNotMatch(text, /:\{\}/);
  });
});
