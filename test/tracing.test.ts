// Tracing through a real gateway on a real FalkorDB, exported by the real OTLP
// exporter to a real OTLP/HTTP receiver this test runs: one span per tool call,
// parented by the caller's `traceparent` (HTTP header, or the request's `_meta`),
// with its database operations as children, and nothing secret in what is sent.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { signTestToken } from './support/tokens.js';

interface Export {
  path: string;
  contentType: string;
  apiKey: string | undefined;
  body: Buffer;
}

/** An OTLP/HTTP receiver: keeps every export it is sent and answers as a collector does. */
async function startReceiver(status = 200): Promise<{ url: string; exports: Export[]; close(): Promise<void> }> {
  const exports: Export[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      const apiKey = req.headers['x-api-key'];
      exports.push({ path: req.url ?? '', contentType, apiKey: typeof apiKey === 'string' ? apiKey : undefined, body: Buffer.concat(chunks) });
      // An empty ExportTraceServiceResponse: `{}` in JSON, no bytes in protobuf.
      res.writeHead(status, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf' });
      res.end(contentType.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, exports, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: OtlpValue }>;
  links?: Array<{ traceId: string; spanId: string }>;
  status?: { code?: number; message?: string };
}
interface OtlpJson {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

function spansOf(exports: Export[]): OtlpSpan[] {
  return exports.flatMap((e) => (JSON.parse(e.body.toString()) as OtlpJson).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
}

function attribute(span: OtlpSpan, key: string): string | number | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  return value.stringValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const traceparent = (traceId: string, spanId: string, flags = '01') => `00-${traceId}-${spanId}-${flags}`;

/** A real MCP client over Streamable HTTP whose every request carries these headers. */
async function connect(gatewayUrl: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'tracing-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp`), { requestInit: { headers } }));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>, meta?: Record<string, string>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args, ...(meta === undefined ? {} : { _meta: meta }) })) as CallToolResult;
}

describe('tracing', () => {
  let falkordb: TestFalkorDB;
  before(async () => {
    falkordb = await startTestFalkorDB();
  });
  after(async () => {
    await falkordb?.cleanup();
  });

  describe('with an OTLP endpoint (http/json)', () => {
    const tenant = `trace-${hex(4)}`;
    const secretValue = `param-value-${hex(8)}`;
    const queryMarker = `query_text_${hex(6)}`;
    const literalInError = `literal_${hex(6)}`;
    const header = { traceId: hex(16), spanId: hex(8) };
    const metaParent = { traceId: hex(16), spanId: hex(8) };
    const metaHeader = { traceId: hex(16), spanId: hex(8) };
    const unsampled = { traceId: hex(16), spanId: hex(8) };
    const modern = { traceId: hex(16), spanId: hex(8) };
    const resource = { traceId: hex(16), spanId: hex(8) };
    let token: string;
    let exports: Export[];
    let spans: OtlpSpan[];
    let receiverUrl: string;

    before(async () => {
      const receiver = await startReceiver();
      receiverUrl = receiver.url;
      try {
        const gateway = await startTestGateway(falkordb.url, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'gateway-under-test' });
        try {
          token = await signTestToken(tenant);
          const auth = { Authorization: `Bearer ${token}` };
          const withHeader = await connect(gateway.url, { ...auth, traceparent: traceparent(header.traceId, header.spanId), tracestate: 'caller=abc' });
          const ok = await call(withHeader, 'falkordb_query', { graphName: 'people', query: `CREATE (:P {v: $v}) RETURN 1 AS ${queryMarker}`, parameters: { v: secretValue } });
          assert.equal(ok.isError, undefined, JSON.stringify(ok.content));
          await withHeader.close();

          const withMeta = await connect(gateway.url, { ...auth, traceparent: traceparent(metaHeader.traceId, metaHeader.spanId) });
          await call(withMeta, 'falkordb_graph_schema', { graphName: 'people' }, { traceparent: traceparent(metaParent.traceId, metaParent.spanId) });
          await withMeta.close();

          const without = await connect(gateway.url, auth);
          const failed = await call(without, 'falkordb_query', { graphName: 'people', query: `RETURN '${literalInError}' +* 1` });
          assert.equal(failed.isError, true);
          await without.close();

          // The SDK v2 client on the 2026-07-28 revision, whose every request carries _meta of its own.
          const v2 = new ClientV2({ name: 'tracing-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
          await v2.connect(new HttpTransportV2(new URL(`${gateway.url}/mcp`), { requestInit: { headers: auth } }));
          const modernCall = await v2.callTool({ name: 'falkordb_read_query', arguments: { graphName: 'people', query: 'MATCH (p:P) RETURN count(p) AS n' }, _meta: { traceparent: traceparent(modern.traceId, modern.spanId), tracestate: 'caller=v2' } });
          assert.notEqual(modernCall.isError, true, JSON.stringify(modernCall.content));
          await v2.close();

          const reader = await connect(gateway.url, { ...auth, traceparent: traceparent(resource.traceId, resource.spanId) });
          await reader.readResource({ uri: 'falkordb://graphs/people/schema' });
          await reader.close();

          const notSampled = await connect(gateway.url, { ...auth, traceparent: traceparent(unsampled.traceId, unsampled.spanId, '00') });
          await call(notSampled, 'falkordb_list_graphs', {});
          await notSampled.close();
        } finally {
          // Stopping flushes what the batch processor still holds.
          await gateway.stop();
        }
      } finally {
        await receiver.close();
      }
      exports = receiver.exports;
      spans = spansOf(exports);
    });

    it('sends OTLP/HTTP JSON to the endpoint with /v1/traces appended', () => {
      assert.ok(exports.length > 0, `${receiverUrl} received nothing`);
      for (const e of exports) {
        assert.equal(e.path, '/v1/traces');
        assert.match(e.contentType, /application\/json/);
      }
      const resource = (JSON.parse(exports[0]!.body.toString()) as OtlpJson).resourceSpans[0]!.resource.attributes;
      assert.equal(resource.find((a) => a.key === 'service.name')?.value.stringValue, 'gateway-under-test');
    });

    it('makes one server span per tool call, a child of the caller\'s traceparent header', () => {
      const mine = spans.filter((s) => s.traceId === header.traceId && s.name.startsWith('tools/call'));
      assert.equal(mine.length, 1);
      const span = mine[0]!;
      assert.equal(span.name, 'tools/call falkordb_query');
      assert.equal(span.parentSpanId, header.spanId);
      assert.equal(span.kind, 2, 'SERVER');
      assert.equal(attribute(span, 'gen_ai.tool.name'), 'falkordb_query');
      assert.equal(attribute(span, 'mcp.method.name'), 'tools/call');
      assert.equal(attribute(span, 'falkordb_gateway.tenant'), tenant);
      assert.equal(attribute(span, 'falkordb_gateway.graph'), 'people');
      assert.equal(attribute(span, 'falkordb_gateway.outcome'), 'success');
      assert.equal(attribute(span, 'falkordb_gateway.row_count'), 1);
      assert.equal(typeof attribute(span, 'falkordb_gateway.request_id'), 'string');
    });

    it('gives the database round trip a child span, named by the graph the tenant sees', () => {
      const parent = spans.find((s) => s.traceId === header.traceId && s.name === 'tools/call falkordb_query')!;
      const children = spans.filter((s) => s.parentSpanId === parent.spanId);
      assert.equal(children.length, 1);
      assert.equal(children[0]!.kind, 3, 'CLIENT');
      assert.equal(attribute(children[0]!, 'db.system.name'), 'falkordb');
      assert.equal(attribute(children[0]!, 'db.namespace'), 'people');
      assert.equal(attribute(children[0]!, 'db.operation.name'), 'GRAPH.QUERY');
    });

    it('takes the parent from the request\'s _meta before the HTTP header, and links the header\'s', () => {
      const span = spans.find((s) => s.name === 'tools/call falkordb_graph_schema');
      assert.ok(span !== undefined);
      assert.equal(span.traceId, metaParent.traceId);
      assert.equal(span.parentSpanId, metaParent.spanId);
      assert.deepEqual((span.links ?? []).map((l) => [l.traceId, l.spanId]), [[metaHeader.traceId, metaHeader.spanId]]);
    });

    it('takes the parent from _meta on the 2026-07-28 revision (SDK v2 client)', () => {
      const span = spans.find((s) => s.traceId === modern.traceId && s.name === 'tools/call falkordb_read_query');
      assert.ok(span !== undefined, 'no span of the modern call');
      assert.equal(span.parentSpanId, modern.spanId);
      const child = spans.find((s) => s.parentSpanId === span.spanId);
      assert.equal(child === undefined ? undefined : attribute(child, 'db.operation.name'), 'GRAPH.RO_QUERY');
    });

    it('names the span of a resource read by its MCP method, without tool attributes', () => {
      const mine = spans.filter((s) => s.traceId === resource.traceId && s.parentSpanId === resource.spanId);
      assert.deepEqual(mine.map((s) => s.name), ['resources/read']);
      const span = mine[0]!;
      assert.equal(attribute(span, 'mcp.method.name'), 'resources/read');
      assert.equal(attribute(span, 'gen_ai.tool.name'), undefined);
      assert.equal(attribute(span, 'falkordb_gateway.tenant'), tenant);
      assert.equal(attribute(span, 'falkordb_gateway.outcome'), 'success');
    });

    it('starts a new trace for a call without traceparent, and marks a failed call with its code only', () => {
      const span = spans.find((s) => s.name === 'tools/call falkordb_query' && s.traceId !== header.traceId);
      assert.ok(span !== undefined);
      assert.ok(![header.traceId, metaParent.traceId, metaHeader.traceId, unsampled.traceId, modern.traceId].includes(span.traceId));
      assert.ok(span.parentSpanId === undefined || span.parentSpanId === '', `parent ${span.parentSpanId}`);
      assert.equal(attribute(span, 'falkordb_gateway.outcome'), 'error');
      assert.equal(attribute(span, 'error.type'), 'tool_error');
      assert.equal(attribute(span, 'falkordb_gateway.error_code'), 'QUERY_FAILED');
      assert.equal(span.status?.code, 2, 'ERROR');
    });

    it('follows the caller\'s decision not to sample (parentbased_always_on by default)', () => {
      assert.deepEqual(spans.filter((s) => s.traceId === unsampled.traceId), []);
      assert.equal(spans.filter((s) => s.name === 'tools/call falkordb_list_graphs').length, 0);
    });

    it('never sends a parameter value, the query, an error message or the token', () => {
      const payload = Buffer.concat(exports.map((e) => e.body)).toString();
      for (const secret of [secretValue, queryMarker, literalInError, token, token.split('.')[2]!, 'CREATE']) {
        assert.ok(!payload.includes(secret), `the export holds ${secret.slice(0, 20)}`);
      }
    });
  });

  it('sends http/protobuf by default, with OTEL_EXPORTER_OTLP_HEADERS, the caller\'s trace id in it', async () => {
    const receiver = await startReceiver();
    const caller = { traceId: hex(16), spanId: hex(8) };
    const secretValue = `param-value-${hex(8)}`;
    let token = '';
    try {
      const gateway = await startTestGateway(falkordb.url, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/custom/traces`, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k%2C1' });
      try {
        token = await signTestToken(`proto-${hex(4)}`);
        const client = await connect(gateway.url, { Authorization: `Bearer ${token}`, traceparent: traceparent(caller.traceId, caller.spanId) });
        await call(client, 'falkordb_query', { graphName: 'g', query: 'RETURN $v AS v', parameters: { v: secretValue } });
        await client.close();
      } finally {
        await gateway.stop();
      }
    } finally {
      await receiver.close();
    }
    assert.ok(receiver.exports.length > 0, 'nothing was exported');
    const body = Buffer.concat(receiver.exports.map((e) => e.body));
    assert.deepEqual([...new Set(receiver.exports.map((e) => `${e.path} ${e.contentType} ${e.apiKey}`))], ['/custom/traces application/x-protobuf k,1']);
    assert.ok(body.includes(Buffer.from(caller.traceId, 'hex')), 'the caller\'s trace id is in the export');
    assert.ok(body.includes(Buffer.from('tools/call falkordb_query')));
    assert.ok(!body.includes(Buffer.from(secretValue)) && !body.includes(Buffer.from(token)));
  });

  it('sends nothing with OTEL_SDK_DISABLED=true, even with an endpoint set', async () => {
    const receiver = await startReceiver();
    try {
      const gateway = await startTestGateway(falkordb.url, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' });
      try {
        const client = await connect(gateway.url, { Authorization: `Bearer ${await signTestToken(`off-${hex(4)}`)}`, traceparent: traceparent(hex(16), hex(8)) });
        await call(client, 'falkordb_query', { graphName: 'g', query: 'RETURN 1' });
        await client.close();
      } finally {
        await gateway.stop();
      }
    } finally {
      await receiver.close();
    }
    assert.deepEqual(receiver.exports, []);
  });

  it('logs a receiver that refuses the spans, without its credentials', async () => {
    const receiver = await startReceiver(400);
    const log = captureLog();
    try {
      const gateway = await startTestGateway(falkordb.url, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=hidden-key-value' }, log.stream);
      try {
        const client = await connect(gateway.url, { Authorization: `Bearer ${await signTestToken(`refused-${hex(4)}`)}` });
        await call(client, 'falkordb_query', { graphName: 'g', query: 'RETURN 1' });
        await client.close();
      } finally {
        await gateway.stop();
      }
    } finally {
      await receiver.close();
    }
    assert.ok(receiver.exports.length > 0, 'the exporter tried');
    const warning = log.text().split('\n').find((line) => line.includes('could not send spans to the OTLP receiver'));
    assert.ok(warning !== undefined, 'no warning was logged');
    assert.ok(warning.includes(`${receiver.url}/v1/traces`));
    assert.ok(!log.text().includes('hidden-key-value'));
  });
});
