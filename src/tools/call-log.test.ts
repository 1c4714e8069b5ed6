// The messages a finished call gives its caller (callLogEntries): which, at what
// level, and that they name only what the caller sent as a graph name and never the query.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ToolCallRecord } from '../observability/tool-call.js';
import { callLogEntries, SLOW_CALL_MS, type CallLogEntry } from './logging.js';

const READ: ToolCallRecord = { tool: 'falkordb_read_query', graph: 'movies', query: "MATCH (n) WHERE n.secret = 'x' RETURN n", outcome: 'success', rowCount: 3, durationMs: 12.4 };

const kinds = (entries: CallLogEntry[]) => entries.map((e) => `${e.level}:${String(e.data['event'])}`);

describe('callLogEntries', () => {
  it('a quick success is only a debug "finished", with its row count and graph', () => {
    const entries = callLogEntries(READ);
    assert.deepEqual(kinds(entries), ['debug:finished']);
    assert.deepEqual(entries[0]?.data, { tool: 'falkordb_read_query', graph: 'movies', durationMs: 12, event: 'finished', rowCount: 3, message: 'falkordb_read_query on graph "movies" finished in 12 ms.' });
  });

  it('a write adds an info "write"; a slow call a notice; a cut-short result a warning, most severe first', () => {
    assert.deepEqual(kinds(callLogEntries({ ...READ, tool: 'falkordb_query', write: true })), ['info:write', 'debug:finished']);
    assert.deepEqual(kinds(callLogEntries({ ...READ, durationMs: SLOW_CALL_MS })), ['notice:slow', 'debug:finished']);
    assert.deepEqual(kinds(callLogEntries({ ...READ, durationMs: SLOW_CALL_MS - 1 })), ['debug:finished']);
    assert.deepEqual(kinds(callLogEntries({ ...READ, write: true, durationMs: 5000 }, { truncated: true })), ['warning:truncated', 'notice:slow', 'info:write', 'debug:finished']);
  });

  it('a call refused before it ran is a warning; one that ran and failed an error; both carry the code', () => {
    for (const code of ['GRAPH_NAME_INVALID', 'SCOPE_MISSING', 'PARAMETERS_INVALID', 'TOO_MANY_QUERIES', 'QUERY_FORBIDDEN']) {
      const [entry] = callLogEntries({ ...READ, outcome: 'error', errorCode: code });
      assert.equal(entry?.level, 'warning', code);
      assert.equal(entry?.data['event'], 'refused', code);
      assert.equal(entry?.data['code'], code);
    }
    const failed = callLogEntries({ ...READ, outcome: 'error', errorCode: 'QUERY_FAILED' });
    assert.deepEqual(kinds(failed), ['error:failed']);
    assert.equal(failed[0]?.data['code'], 'QUERY_FAILED');
    assert.equal(callLogEntries({ ...READ, outcome: 'error' })[0]?.data['code'], 'INTERNAL');
  });

  it('a cancelled call is a notice, and nothing else', () => {
    assert.deepEqual(kinds(callLogEntries({ ...READ, outcome: 'cancelled' })), ['notice:cancelled']);
  });

  it('never holds the query text', () => {
    for (const record of [READ, { ...READ, outcome: 'error' as const, errorCode: 'QUERY_FAILED' }, { ...READ, durationMs: 9000, write: true }]) {
      for (const entry of callLogEntries(record, { truncated: true })) assert.equal(JSON.stringify(entry).includes('secret'), false);
    }
  });

  it('names the graph only when what the caller sent is a graph name', () => {
    for (const graph of ['gw:tenant_graph', 'other-tenant_graph with spaces', '', 'x'.repeat(200)]) {
      for (const entry of callLogEntries({ ...READ, graph, outcome: 'error', errorCode: 'GRAPH_NAME_INVALID' })) {
        assert.equal(entry.data['graph'], undefined, graph);
        assert.equal(String(entry.data['message']).includes(graph === '' ? '""' : graph), false, graph);
      }
    }
    const { graph: _none, ...noGraph } = READ;
    assert.deepEqual(callLogEntries(noGraph)[0]?.data['message'], 'falkordb_read_query finished in 12 ms.');
  });
});
