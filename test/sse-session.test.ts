// A legacy SSE session id is no credential: every POST /messages needs a valid
// token of the client that opened the session, the session keeps the opener's
// scopes and graphs, and an expired token neither keeps nor reopens a session.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { connectClient, mustCall } from './support/mcp.js';
import { initializeSession, openSseSession, toolCall, type RawSseSession } from './support/sse.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
const open: RawSseSession[] = [];

before(async () => {
  db = await startTestFalkorDB();
  // A wide clock tolerance: a token past its exp is still accepted on /mcp, so only the SSE rule can refuse it.
  gateway = await startTestGateway(db.url, { AUTH_CLOCK_TOLERANCE: '600' });
});

after(async () => {
  for (const session of open) session.close();
  await gateway?.stop();
  await db?.cleanup();
});

async function session(token: string, via: 'header' | 'query' = 'header'): Promise<RawSseSession> {
  const s = await openSseSession(gateway.url, token, via);
  open.push(s);
  await initializeSession(s, via === 'header' ? token : undefined);
  return s;
}

interface ToolAnswer {
  result?: { isError?: boolean; structuredContent?: Record<string, unknown>; content: Array<{ text: string }> };
}

async function called(s: RawSseSession, id: number, token: string | undefined, name: string, args: Record<string, unknown> = {}): Promise<NonNullable<ToolAnswer['result']>> {
  const post = await s.post(toolCall(id, name, args), token);
  assert.equal(post.status, 202, `the post of call ${id} was accepted`);
  const answer = (await s.answer(id)) as ToolAnswer;
  assert.ok(answer.result, JSON.stringify(answer));
  return answer.result;
}

async function refusal(res: Response): Promise<{ status: number; code: string; challenge: string | null }> {
  if (res.ok) {
    // Accepted: a post's "Accepted", or a whole new event stream.
    await res.body?.cancel();
    return { status: res.status, code: '(accepted)', challenge: null };
  }
  const body = (await res.json()) as { code: string };
  return { status: res.status, code: body.code, challenge: res.headers.get('www-authenticate') };
}

describe('every POST /messages carries a token of the client that opened the session', () => {
  it('refuses a post without a token (401 TOKEN_MISSING), and the session does not run it', async () => {
    const token = await signTestToken('sse-own');
    const s = await session(token);
    await called(s, 2, token, 'falkordb_query', { graphName: 'notes', query: 'CREATE (:Owner)' });

    const intruder = await refusal(await s.post(toolCall(3, 'falkordb_query', { graphName: 'notes', query: 'CREATE (:Intruder)' })));
    assert.equal(intruder.status, 401);
    assert.equal(intruder.code, 'TOKEN_MISSING');
    assert.match(intruder.challenge ?? '', /^Bearer /);

    const count = await called(s, 4, token, 'falkordb_query', { graphName: 'notes', query: 'MATCH (n:Intruder) RETURN count(n) AS c' });
    assert.deepEqual(count.structuredContent?.['rows'], [{ c: 0 }]);
    assert.ok(!s.received().some((m) => m['id'] === 3), 'the stream never answered the refused post');
  });

  it('refuses a post without a token to a session id that does not exist, before saying whether it does', async () => {
    const res = await fetch(`${gateway.url}/messages?sessionId=00000000-0000-0000-0000-000000000000`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal((await refusal(res)).code, 'TOKEN_MISSING');
  });

  it("refuses a post with another tenant's token (403 SESSION_FORBIDDEN)", async () => {
    const s = await session(await signTestToken('sse-tenant-a'));
    const other = await refusal(await s.post(toolCall(2, 'falkordb_list_graphs'), await signTestToken('sse-tenant-b')));
    assert.deepEqual([other.status, other.code], [403, 'SESSION_FORBIDDEN']);
  });

  it("refuses a post with the token of another device of the same tenant", async () => {
    const s = await session(await signTestToken('sse-devices', { claims: { device: 'laptop' } }));
    const phone = await refusal(await s.post(toolCall(2, 'falkordb_list_graphs'), await signTestToken('sse-devices', { claims: { device: 'phone' } })));
    assert.deepEqual([phone.status, phone.code], [403, 'SESSION_FORBIDDEN']);
    const noDevice = await refusal(await s.post(toolCall(3, 'falkordb_list_graphs'), await signTestToken('sse-devices')));
    assert.deepEqual([noDevice.status, noDevice.code], [403, 'SESSION_FORBIDDEN']);
  });

  it('accepts a new token of the same device, as after a refresh', async () => {
    const s = await session(await signTestToken('sse-refreshed', { claims: { device: 'laptop' } }));
    const fresh = await signTestToken('sse-refreshed', { claims: { device: 'laptop' } });
    const listed = await called(s, 2, fresh, 'falkordb_list_graphs');
    assert.equal(listed.isError, undefined, JSON.stringify(listed));
  });

  it('refuses a bad token on a post (401), as on any other request', async () => {
    const token = await signTestToken('sse-bad');
    const s = await session(token);
    const forged = await refusal(await s.post(toolCall(2, 'falkordb_list_graphs'), `${token.slice(0, -4)}AAAA`));
    assert.equal(forged.status, 401);
    assert.match(forged.challenge ?? '', /error="invalid_token"/);
  });

  it('names the token on the endpoint for a session opened with ?token=, so clients that cannot set headers keep working', async () => {
    const token = await signTestToken('sse-query');
    const s = await openSseSession(gateway.url, token, 'query');
    open.push(s);
    assert.equal(new URL(s.endpoint, gateway.url).searchParams.get('token'), token);
    const client = await connectClient('sse-query', gateway.url, token);
    try {
      assert.equal((await mustCall(client, 'falkordb_server_info')).tenant, 'sse-query');
    } finally {
      await client.close();
    }
  });
});

describe('a session keeps the scopes and graphs of the token that opened it', () => {
  it('refuses a write in a session opened read-only, even when the post carries a write token', async () => {
    const writer = await connectClient('http', gateway.url, await signTestToken('sse-scopes'));
    await mustCall(writer, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Existing)' });
    await writer.close();
    const s = await session(await signTestToken('sse-scopes', { scope: 'read' }));
    const write = await called(s, 2, await signTestToken('sse-scopes', { scope: 'read write' }), 'falkordb_query', { graphName: 'g', query: 'CREATE (:X)' });
    assert.equal(write.isError, true);
    assert.equal((JSON.parse(write.content[0]!.text) as { error: { code: string } }).error.code, 'SCOPE_MISSING');
  });

  it('refuses a post whose token has fewer scopes than the opener', async () => {
    const s = await session(await signTestToken('sse-fewer'));
    const narrow = await refusal(await s.post(toolCall(2, 'falkordb_list_graphs'), await signTestToken('sse-fewer', { scope: 'read' })));
    assert.deepEqual([narrow.status, narrow.code], [403, 'SESSION_FORBIDDEN']);
  });

  it('applies the opener\'s graphs claim to every call', async () => {
    const token = await signTestToken('sse-graphs', { claims: { graphs: ['reports_*'] } });
    const s = await session(token);
    const denied = await called(s, 2, token, 'falkordb_query', { graphName: 'sales', query: 'CREATE (:X)' });
    assert.equal(denied.isError, true);
    assert.equal((JSON.parse(denied.content[0]!.text) as { error: { code: string } }).error.code, 'GRAPH_FORBIDDEN');
  });
});

describe('an expired token ends its session and opens no new one', () => {
  it('closes the stream at exp, and GET /sse then answers 401 TOKEN_EXPIRED though the clock tolerance would still accept the token', { timeout: 60_000 }, async () => {
    const token = await signTestToken('sse-short', { expiresInSec: 6 });
    const s = await session(token);
    await s.ended;
    // Within AUTH_CLOCK_TOLERANCE the token is still good for a stateless request…
    const stateless = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(stateless.status, 200);
    // …but not for a session, which would end at once and be reopened in a loop.
    const reopen = await refusal(await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${token}` } }));
    assert.deepEqual([reopen.status, reopen.code], [401, 'TOKEN_EXPIRED']);
    assert.match(reopen.challenge ?? '', /error="invalid_token"/);
  });

  it('refuses posts to the session once its token has expired', { timeout: 60_000 }, async () => {
    const token = await signTestToken('sse-short-post', { expiresInSec: 6 });
    const s = await session(token);
    await s.ended;
    const late = await refusal(await s.post(toolCall(2, 'falkordb_list_graphs'), token));
    assert.equal(late.status, 401);
    assert.equal(late.code, 'TOKEN_EXPIRED');
  });
});
