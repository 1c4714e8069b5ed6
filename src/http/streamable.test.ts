// The shortcut past the SDK's classifier for plain 2025-era requests: it may
// say "legacy" only where the classifier says so too, for any body and headers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { plainLegacyRequest } from './streamable.js';

const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

const ids = fc.oneof(fc.constant(undefined), fc.integer(), fc.string(), fc.double(), fc.constant(null), fc.object());
const metas = fc.oneof(fc.constant(undefined), fc.constant(ENVELOPE), fc.constant({ progressToken: 1 }), fc.constant({ 'io.modelcontextprotocol/protocolVersion': '2025-11-25' }), fc.anything());
const params = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.array(fc.integer()),
  fc.record({ name: fc.string(), _meta: metas }, { requiredKeys: [] }),
  fc.dictionary(fc.string(), fc.jsonValue()),
);
const bodies = fc.oneof(
  fc.record(
    { jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('1.0')), id: ids, method: fc.oneof(fc.constantFrom('tools/call', 'tools/list', 'initialize', 'server/discover', 'ping', 'notifications/initialized'), fc.string()), params },
    { requiredKeys: ['jsonrpc'] },
  ),
  fc.anything(),
);
const versions = fc.oneof(fc.constant(undefined), fc.constantFrom('2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2026-07-28', '1999-01-01', ''), fc.string());

describe('plainLegacyRequest', () => {
  it('says legacy only where the SDK classifier says legacy', () => {
    fc.assert(
      fc.property(bodies, versions, fc.option(fc.string(), { nil: undefined }), (body, version, method) => {
        const headers = { ...(version === undefined ? {} : { 'mcp-protocol-version': version }), ...(method === undefined ? {} : { 'mcp-method': method }) };
        if (!plainLegacyRequest({ headers }, body)) return;
        const outcome = classifyInboundRequest({ httpMethod: 'POST', body, ...(version === undefined ? {} : { protocolVersionHeader: version }), ...(method === undefined ? {} : { mcpMethodHeader: method }) });
        assert.equal(outcome.kind, 'legacy', JSON.stringify({ body, version, method, outcome }));
      }),
      { numRuns: 5000 },
    );
  });

  it('takes the common 2025 calls, and leaves every request with a _meta, batches and the 2026-07-28 header to the classifier', () => {
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'falkordb_query', arguments: {} } };
    assert.equal(plainLegacyRequest({ headers: {} }, call), true);
    assert.equal(plainLegacyRequest({ headers: { 'mcp-protocol-version': '2025-06-18' } }, call), true);
    assert.equal(plainLegacyRequest({ headers: { 'mcp-protocol-version': '2026-07-28' } }, call), false);
    assert.equal(plainLegacyRequest({ headers: {} }, { ...call, params: { ...call.params, _meta: ENVELOPE } }), false);
    assert.equal(plainLegacyRequest({ headers: {} }, [call]), false);
  });
});
