// Tokens never reach the logs: not from headers, not from `?token=`, not from
// refresh exchanges, not from refusals, not from the audit trail. Nor do SSE
// session ids, which name a live session.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { postTokenForm, probeMcp } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient } from './support/mcp.js';
import { initializeSession, openSseSession, toolCall } from './support/sse.js';
import { TEST_SECRET, signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
const log = captureLog();

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: await writeSigningKey(await tempDir()) }, log.stream);
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

describe('logs', () => {
  it('hold no token, refresh token or secret, whatever the request did', async () => {
    const secrets: string[] = [TEST_SECRET, db.password];
    const issued = await gateway.issuer!.issue({ tenant: 'logged', scopes: ['read', 'write'], device: 'laptop', withRefresh: true, actor: 'test' });
    secrets.push(issued.accessToken, issued.refreshToken!);

    const headerToken = await signTestToken('logged');
    secrets.push(headerToken);
    assert.equal((await probeMcp(gateway.url, headerToken)).status, 200);

    const queryToken = await signTestToken('logged-query');
    secrets.push(queryToken);
    const sse = await connectClient('sse-query', gateway.url, queryToken);
    assert.equal((await callTool(sse, 'falkordb_list_graphs')).ok, true);
    await sse.close();

    const badToken = `${headerToken.slice(0, -4)}AAAA`;
    secrets.push(badToken);
    assert.equal((await probeMcp(gateway.url, badToken)).status, 401);

    const exchanged = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: issued.refreshToken! });
    assert.equal(exchanged.status, 200);
    secrets.push(String(exchanged.body['access_token']), String(exchanged.body['refresh_token']));
    // A reuse: refused, audited, and still nothing secret in the log.
    assert.equal((await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: issued.refreshToken! })).status, 400);

    await sleep(100);
    await gateway.state.audit.flush();
    const text = log.text();
    assert.match(text, /"msg":"request"/, 'the requests were logged');
    assert.match(text, /"event":"refresh_reuse"/, 'the reuse was audited');
    for (const secret of secrets) assert.ok(!text.includes(secret), `a secret of ${secret.length} characters reached the log`);
    const streams = (await gateway.state.store.command(['KEYS', 'gw:audit*'])) as string[];
    assert.ok(streams.length >= 2, 'events reached both the tenant streams and the gateway-wide one');
    const audit = JSON.stringify(await Promise.all(streams.map((key) => gateway.state.store.command(['XRANGE', key, '-', '+']))));
    for (const secret of secrets) assert.ok(!audit.includes(secret), 'a secret reached the audit stream');
  });

  it('hold no SSE session id, from the endpoint, the posts or their refusals', async () => {
    const lines = () => log.text().split('\n').filter((line) => line.includes('"msg":"request"'));
    const before = lines().length;
    const headerToken = await signTestToken('logged-sse');
    const queryToken = await signTestToken('logged-sse-query');
    const byHeader = await openSseSession(gateway.url, headerToken, 'header');
    const byQuery = await openSseSession(gateway.url, queryToken, 'query');
    const ids = [byHeader.sessionId, byQuery.sessionId];
    assert.ok(ids.every((id) => id.length >= 16), 'both streams named a session id');
    let requests = 2;
    try {
      await initializeSession(byHeader, headerToken);
      await initializeSession(byQuery, undefined);
      requests += 4;
      assert.equal((await byHeader.post(toolCall(2, 'falkordb_list_graphs'), headerToken)).status, 202);
      assert.equal((await byQuery.post(toolCall(2, 'falkordb_list_graphs'))).status, 202);
      await Promise.all([byHeader.answer(2), byQuery.answer(2)]);
      // Refused posts: without a token, and to the query session with another tenant's header.
      assert.equal((await fetch(`${gateway.url}/messages?sessionId=${byHeader.sessionId}`, { method: 'POST', body: '{}' })).status, 401);
      assert.equal((await byQuery.post(toolCall(3, 'falkordb_list_graphs'), headerToken)).status, 403);
      requests += 4;
    } finally {
      byHeader.close();
      byQuery.close();
    }
    // Each request's line is written when its response closes: wait for all of them (the two streams included).
    for (let waited = 0; lines().length - before < requests && waited < 100; waited++) await sleep(100);
    assert.ok(lines().length - before >= requests, `every request was logged (${lines().length - before} of ${requests})`);
    const text = log.text();
    for (const id of ids) assert.ok(!text.includes(id), 'a session id reached the log');
    assert.match(text, /"path":"\/messages\?sessionId=\[REDACTED\]"/, 'the posts were logged, id redacted');
    assert.ok(!text.includes(queryToken), 'the token on the endpoint reached the log');
  });
});
