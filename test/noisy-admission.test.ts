// Noisy neighbours at admission, through real gateways on one real FalkorDB:
// every tool call counts against the tenant's rate wherever it arrives (one
// POST of a JSON-RPC batch, an SSE session), SSE sessions are capped per device
// and per tenant and closed when idle, and a second gateway on the same
// machine starts with only PORT changed.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, type Config } from '../src/config/index.js';
import { startGateway, type RunningGateway } from '../src/main.js';
import { createLogger } from '../src/logger.js';
import { rejection } from './support/assertions.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { postTokenForm } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient } from './support/mcp.js';
import { initializeSession, openSseSession, toolCall, type RawSseSession } from './support/sse.js';
import { signTestToken, TEST_SECRET } from './support/tokens.js';
import { waitFor } from './support/topology.js';

const RATE = 5;
const BATCH = 40;

const PER_DEVICE = 3;
const PER_TENANT = 5;
const IDLE_MS = 1500;

let db: TestFalkorDB;
let limited: RunningGateway;
let capped: RunningGateway;
let idle: RunningGateway;
let signer: RunningGateway;
const TOKEN_REQUESTS = 3;
const sessions: RawSseSession[] = [];
let auditDir: string;
let auditFile: string;

before(async () => {
  db = await startTestFalkorDB();
  auditDir = await mkdtemp(path.join(tmpdir(), 'noisy-admission-'));
  auditFile = path.join(auditDir, 'audit.log');
  limited = await startTestGateway(db.url, { RATE_LIMIT_PER_MINUTE: String(RATE), RATE_LIMIT_BURST: '0', AUDIT_LOG_FILE: auditFile });
  capped = await startTestGateway(db.url, { SSE_MAX_SESSIONS_PER_DEVICE: String(PER_DEVICE), SSE_MAX_SESSIONS_PER_TENANT: String(PER_TENANT) });
  idle = await startTestGateway(db.url, { SSE_IDLE_TIMEOUT_MS: String(IDLE_MS) });
  signer = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: await writeSigningKey(await tempDir()), TOKEN_REQUESTS_PER_MINUTE: String(TOKEN_REQUESTS) });
});

after(async () => {
  for (const session of sessions) session.close();
  await Promise.allSettled([limited?.stop(), capped?.stop(), idle?.stop(), signer?.stop()]);
  await db?.cleanup();
  await rm(auditDir, { recursive: true, force: true });
});

async function auditEvents(): Promise<Array<Record<string, unknown>>> {
  await limited.state.audit.flush();
  const text = await readFile(auditFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** One raw POST to /mcp, the way a client that batches would send it. */
async function postMcp(gateway: RunningGateway, token: string, body: unknown, protocolVersion = '2025-03-26'): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': protocolVersion,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

interface BatchReply {
  id: number;
  result?: { isError?: boolean; content?: Array<{ text: string }> };
  error?: unknown;
}

function toolErrorCode(reply: BatchReply): string | undefined {
  if (reply.result?.isError !== true) return undefined;
  const parsed = JSON.parse(reply.result.content?.[0]?.text ?? '{}') as { error?: { code?: string } };
  return parsed.error?.code;
}

describe('rate limit per tool call', () => {
  it('counts every tool call of a batched POST: the calls within the rate run, the others get RATE_LIMITED', async () => {
    const token = await signTestToken('batcher');
    const batch = Array.from({ length: BATCH }, (_, i) => toolCall(i + 1, 'falkordb_list_graphs'));
    const reply = await postMcp(limited, token, batch);
    assert.equal(reply.status, 200);
    assert.ok(Array.isArray(reply.body), 'a batch gets a batch of replies');
    const replies = reply.body as BatchReply[];
    assert.equal(replies.length, BATCH);
    const ran = replies.filter((r) => r.result !== undefined && r.result.isError !== true);
    const refused = replies.filter((r) => toolErrorCode(r) === 'RATE_LIMITED');
    assert.equal(ran.length, RATE, `only ${RATE} of the ${BATCH} calls run under RATE_LIMIT_PER_MINUTE=${RATE}`);
    assert.equal(refused.length, BATCH - RATE, 'every other call is refused as RATE_LIMITED');
    const message = JSON.parse(refused[0]!.result!.content![0]!.text) as { error: { message: string } };
    assert.match(message.error.message, new RegExp(`rate limit of ${RATE} requests per minute.*Retry in \\d+ s`));

    const limitedEvents = (await auditEvents()).filter((e) => e['tenant'] === 'batcher' && e['errorCode'] === 'RATE_LIMITED');
    assert.equal(limitedEvents.length, BATCH - RATE, 'every refused call is audited');

    // The next POST finds the budget spent, and another tenant's is untouched.
    const next = await postMcp(limited, token, toolCall(1000, 'falkordb_list_graphs'));
    assert.equal(next.status, 429);
    const bystander = await postMcp(limited, await signTestToken('batch-bystander'), toolCall(1, 'falkordb_list_graphs'));
    assert.equal(bystander.status, 200);
    assert.notEqual((bystander.body as BatchReply).result?.isError, true);
  });

  it('accepts JSON-RPC batches at every protocol version it negotiates, so none is a way around the count', async () => {
    for (const version of ['2025-03-26', '2025-06-18', '2025-11-25']) {
      const token = await signTestToken(`batch-${version}`);
      const reply = await postMcp(limited, token, [toolCall(1, 'falkordb_list_graphs'), toolCall(2, 'falkordb_list_graphs')], version);
      assert.equal(reply.status, 200, `a batch at ${version} is answered`);
      assert.equal((reply.body as BatchReply[]).length, 2);
    }
  });

  it('counts a POST without tool calls once, whatever it carries', async () => {
    const token = await signTestToken('lister');
    const batch = Array.from({ length: RATE + 3 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/list', params: {} }));
    const reply = await postMcp(limited, token, batch);
    assert.equal(reply.status, 200);
    assert.ok((reply.body as BatchReply[]).every((r) => r.error === undefined));
    // One of the RATE was spent by that POST: RATE - 1 calls remain.
    const calls = await postMcp(limited, token, Array.from({ length: RATE }, (_, i) => toolCall(i + 1, 'falkordb_list_graphs')));
    const refused = (calls.body as BatchReply[]).filter((r) => toolErrorCode(r) === 'RATE_LIMITED');
    assert.equal(refused.length, 1);
  });

  it('counts each tool call of an SSE session, opened with a real MCP client', async () => {
    const client = await connectClient('sse-header', limited.url, await signTestToken('sse-caller'));
    try {
      // Opening the session spent one of the RATE.
      const outcomes = [];
      for (let i = 0; i < RATE; i++) outcomes.push(await callTool(client, 'falkordb_list_graphs'));
      assert.deepEqual(
        outcomes.map((o) => o.error?.code),
        [...Array.from({ length: RATE - 1 }, () => undefined), 'RATE_LIMITED'],
      );
    } finally {
      await client.close();
    }
  });
});

/** Opens an SSE session that the test closes at the end. */
async function open(gateway: RunningGateway, token: string): Promise<RawSseSession> {
  const session = await openSseSession(gateway.url, token);
  sessions.push(session);
  return session;
}

/** What GET /sse answers when it refuses; fails the test if it opens a session instead. */
async function refusedOpen(gateway: RunningGateway, token: string): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const controller = new AbortController();
  const res = await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${token}` }, signal: controller.signal });
  if (res.status === 200) {
    controller.abort();
    assert.fail('GET /sse opened a session past the cap');
  }
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
}

describe('token requests', () => {
  it('counts /oauth/token per client address by its own rule: past TOKEN_REQUESTS_PER_MINUTE, 429 RATE_LIMITED with Retry-After', async () => {
    const form = { grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token' };
    for (let i = 0; i < TOKEN_REQUESTS; i++) {
      const answer = await postTokenForm(signer.url, form);
      assert.equal(answer.status, 400, 'a bad refresh token within the rate is refused as a bad grant');
    }
    const over = await postTokenForm(signer.url, form);
    assert.equal(over.status, 429);
    assert.equal(over.body.code, 'RATE_LIMITED');
    assert.match(String(over.body.message), new RegExp(`at most ${TOKEN_REQUESTS} per minute.*TOKEN_REQUESTS_PER_MINUTE.*Retry in \\d+ s`));
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    // Tool calls are not drawn from that count.
    const call = await postMcp(signer, await signTestToken('refresher'), toolCall(1, 'falkordb_list_graphs'));
    assert.equal(call.status, 200);
  });
});

describe('SSE session caps', () => {
  const deviceToken = (tenant: string, device: string) => signTestToken(tenant, { claims: { device } });

  it('refuses a client past SSE_MAX_SESSIONS_PER_DEVICE with SESSION_LIMIT; its tenant\'s other devices and other tenants still open sessions; closing one frees a slot', async () => {
    const laptop = await deviceToken('crowded', 'laptop');
    const opened = [];
    for (let i = 0; i < PER_DEVICE; i++) opened.push(await open(capped, laptop));
    // Another token of the same device counts against the same cap.
    const refused = await refusedOpen(capped, await deviceToken('crowded', 'laptop'));
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'SESSION_LIMIT');
    assert.match(refused.body.message ?? '', new RegExp(`${PER_DEVICE} SSE sessions open on this gateway instance.*SSE_MAX_SESSIONS_PER_DEVICE`));

    await open(capped, await deviceToken('crowded', 'phone'));
    await open(capped, await deviceToken('roomy', 'laptop'));

    opened[0]!.close();
    await opened[0]!.ended;
    await waitFor('a slot freed by the closed session', async () => {
      const controller = new AbortController();
      const res = await fetch(`${capped.url}/sse`, { headers: { Authorization: `Bearer ${laptop}` }, signal: controller.signal });
      controller.abort();
      return res.status === 200 ? true : undefined;
    });
  });

  it('refuses a tenant past SSE_MAX_SESSIONS_PER_TENANT, whatever device asks, while another tenant still opens one', async () => {
    for (let i = 0; i < PER_TENANT; i++) await open(capped, await deviceToken('busy', `device-${i}`));
    const refused = await refusedOpen(capped, await deviceToken('busy', 'one-more'));
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'SESSION_LIMIT');
    assert.match(refused.body.message ?? '', new RegExp(`Tenant "busy" already has ${PER_TENANT} SSE sessions.*SSE_MAX_SESSIONS_PER_TENANT`));
    await open(capped, await deviceToken('bystander', 'laptop'));
  });
});

describe('idle SSE sessions', () => {
  it('closes a session that receives no POST for SSE_IDLE_TIMEOUT_MS', async () => {
    const token = await signTestToken('idler');
    const session = await open(idle, token);
    await initializeSession(session, token);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'still open'>((resolve) => (timer = setTimeout(() => resolve('still open'), 60_000)));
    const outcome = await Promise.race([session.ended.then(() => 'closed' as const), deadline]);
    clearTimeout(timer);
    assert.equal(outcome, 'closed', 'the gateway ended the idle stream');
    const post = await session.post(toolCall(9, 'falkordb_list_graphs'), token);
    assert.equal(post.status, 404, 'the closed session is gone');
  });
});

describe('two gateways on one machine', () => {
  let occupied: Server;
  let takenPort: number;

  before(async () => {
    // Stands in for the first gateway's metrics listener, on a port of the test's own (never the real 9464).
    occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    takenPort = (occupied.address() as { port: number }).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => occupied.close(() => resolve()));
  });

  /** A gateway configured with only PORT changed, whose default metrics port is `takenPort`; METRICS_PORT given when `explicit`. */
  function configWithMetricsOn(explicit: boolean): Config {
    const config = loadConfig({ FALKORDB_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', LOG_LEVEL: 'info', METRICS_PORT: String(takenPort) });
    return { ...config, metrics: { ...config.metrics, portExplicit: explicit } };
  }

  it('starts when the default METRICS_PORT is taken, on a free metrics port its log names, which answers /metrics', async () => {
    const log = captureLog();
    const config = configWithMetricsOn(false);
    const gateway = await startGateway({ config, logger: createLogger(config.logLevel, log.stream), allowInstall: false });
    try {
      assert.ok(gateway.metricsUrl !== undefined);
      assert.notEqual(new URL(gateway.metricsUrl).port, String(takenPort));
      const line = log
        .text()
        .split('\n')
        .find((l) => l.includes('metrics listening'));
      assert.ok(line !== undefined, 'a log line says where the metrics are');
      assert.equal((JSON.parse(line) as { url: string }).url, gateway.metricsUrl);
      assert.match(line, new RegExp(`default METRICS_PORT ${takenPort} is taken`));
      const scrape = await fetch(gateway.metricsUrl);
      assert.equal(scrape.status, 200);
      assert.match(await scrape.text(), /# TYPE /);
    } finally {
      await gateway.stop();
    }
  });

  it('still refuses to start with PORT_IN_USE when METRICS_PORT is set explicitly to a taken port', async () => {
    const config = configWithMetricsOn(true);
    const error = await rejection(startGateway({ config, logger: createLogger('silent', 1), allowInstall: false }));
    assert.equal(error.code, 'PORT_IN_USE');
    assert.match(error.message, new RegExp(`METRICS_PORT ${takenPort} on 127.0.0.1 is already in use`));
  });
});
