import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeQueryError, translateQueryError } from './query-errors.js';

describe('describeQueryError', () => {
  it("places a syntax error in the caller's query and drops FalkorDB's raw context", () => {
    const raw = "errMsg: Invalid input 'R': expected RETURN line: 1, column: 14, offset: 13 errCtx: MATCH (n) RETRN n errCtxOffset: 13";
    assert.equal(describeQueryError(raw, 'MATCH (n) RETRN n'), "Invalid input 'R' at position 13 (line 1, column 14): expected RETURN");
  });
  it('counts characters, not bytes, and lines from 1', () => {
    // FalkorDB counts bytes: 'é' is two.
    const raw = "errMsg: Invalid input 'R': expected RETURN line: 2, column: 16, offset: 25 errCtx: RETURN 'é' RETRN errCtxOffset: 15";
    assert.equal(describeQueryError(raw, "MATCH (n)\nRETURN 'é' RETRN"), "Invalid input 'R' at position 24 (line 2, column 15): expected RETURN");
  });
  it('keeps line and column alone when the query has its own CYPHER parameters', () => {
    const raw = "errMsg: Invalid input 'R': expected RETURN line: 1, column: 13, offset: 12 errCtx: RETURN 1 RETRN errCtxOffset: 12";
    assert.equal(describeQueryError(raw, 'CYPHER b=2 RETURN 1 RETRN'), "Invalid input 'R' at line 1, column 13: expected RETURN");
  });
  it('passes other errors in their own words, without a prefix', () => {
    assert.equal(describeQueryError("Unknown function 'foo'", 'RETURN foo(1)'), "Unknown function 'foo'");
    assert.equal(describeQueryError('Error: Multiple result columns with the same name are not supported.', 'x'), 'Multiple result columns with the same name are not supported.');
    assert.equal(describeQueryError('errMsg: Message starting with Msg', 'x'), 'Message starting with Msg');
  });
  it('names the constraint tools where FalkorDB refuses a constraint in Cypher', () => {
    const error = translateQueryError(new Error('Invalid constraint command use the GRAPH.CONSTRAINT command instead'), 'CREATE CONSTRAINT ON (p:P) ASSERT p.id IS UNIQUE');
    assert.equal(error.code, 'QUERY_FAILED');
    assert.match(error.message, /falkordb_create_constraint/);
    assert.doesNotMatch(error.message, /GRAPH\.CONSTRAINT/);
  });
  it('keeps the reply as the cause of the GatewayError', () => {
    const reply = new Error("errMsg: Invalid input 'R': expected RETURN line: 1, column: 14, offset: 13 errCtx: MATCH (n) RETRN n errCtxOffset: 13");
    const error = translateQueryError(reply, 'MATCH (n) RETRN n');
    assert.equal(error.code, 'QUERY_FAILED');
    assert.equal(error.cause, reply);
    assert.equal(translateQueryError(new Error('ERR Invalid graph operation on empty key')).code, 'GRAPH_NOT_FOUND');
  });
});
