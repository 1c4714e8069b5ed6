// Tokens never reach the logs: not from headers, not from `?token=`, not from
// refresh exchanges, not from refusals, not from the audit trail.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { postTokenForm, probeMcp } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient } from './support/mcp.js';
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
});
