// The refresh grant under pressure, over real HTTP: a refused exchange spends
// nothing, a reused refresh token ends its whole family even while the winner
// of a race is still being issued, and a device revocation ends a chain that
// is being refreshed at that very moment.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningGateway } from '../src/main.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { STATE_CACHE_EXPIRY_MS, postTokenForm, probeMcp, type Probe } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient } from './support/mcp.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let cliEnv: Record<string, string>;

before(async () => {
  db = await startTestFalkorDB();
  const keyFile = await writeSigningKey(await tempDir());
  // Hundreds of revoked tokens are checked from one address: the per-address failure limit would answer 429 instead of 401.
  gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, AUTH_FAILURES_PER_MINUTE: '0' });
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent' };
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

interface Pair {
  access: string;
  refresh: string;
  jti: string;
}

async function issueDevice(tenant: string, device: string): Promise<Pair> {
  const issued = await gateway.issuer!.issue({ tenant, scopes: ['read', 'write'], device, withRefresh: true, actor: 'test' });
  return { access: issued.accessToken, refresh: issued.refreshToken!, jti: issued.jti };
}

function refreshOverHttp(refreshToken: string, scope?: string): Promise<Probe> {
  return postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: refreshToken, ...(scope === undefined ? {} : { scope }) });
}

function pairFrom(answer: Probe): Pair {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const access = String(answer.body['access_token']);
  const payload = JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString()) as { jti: string };
  return { access, refresh: String(answer.body['refresh_token']), jti: payload.jti };
}

/** A tool call through the SDK's client over Streamable HTTP: ok, or why it was refused. */
async function listGraphs(token: string): Promise<{ ok: boolean; why: string }> {
  let client;
  try {
    client = await connectClient('http', gateway.url, token);
  } catch (error) {
    return { ok: false, why: error instanceof Error ? error.message : String(error) };
  }
  try {
    const outcome = await callTool(client, 'falkordb_list_graphs');
    return { ok: outcome.ok, why: outcome.text };
  } catch (error) {
    return { ok: false, why: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.close();
  }
}

async function assertToolWorks(token: string, what: string): Promise<void> {
  const outcome = await listGraphs(token);
  assert.ok(outcome.ok, `${what}: ${outcome.why}`);
}

async function assertToolRevoked(token: string, what: string): Promise<void> {
  const outcome = await listGraphs(token);
  assert.equal(outcome.ok, false, `${what} still works`);
  assert.match(outcome.why, /TOKEN_REVOKED/, what);
}

interface Listed {
  tokens: Array<{ jti: string; device?: string; revoked?: string }>;
  refreshTokens: Array<{ device?: string; revokedAt?: number; revokedReason?: string }>;
}

function listTokens(tenant: string): Promise<Listed> {
  return runCliJson<Listed>(['token', 'list', '--tenant', tenant, '--json'], cliEnv);
}

describe('a refused refresh spends nothing', () => {
  it('refuses a scope the refresh token lacks, and the retry without it works while the old access token keeps working', async () => {
    const first = await issueDevice('lc-scope', 'laptop');
    const client = await connectClient('http', gateway.url, first.access);
    try {
      assert.equal((await callTool(client, 'falkordb_list_graphs')).ok, true);
      const widened = await refreshOverHttp(first.refresh, 'admin');
      assert.equal(widened.status, 400);
      assert.equal(widened.body['error'], 'invalid_scope');

      const retried = pairFrom(await refreshOverHttp(first.refresh));
      await assertToolWorks(retried.access, 'the access token of the retried refresh');
      await sleep(STATE_CACHE_EXPIRY_MS);
      const again = await callTool(client, 'falkordb_list_graphs');
      assert.equal(again.ok, true, `the device's first access token: ${again.text}`);
      assert.equal((await refreshOverHttp(retried.refresh)).status, 200, 'the chain goes on');

      const listed = await listTokens('lc-scope');
      for (const jti of [first.jti, retried.jti]) {
        const token = listed.tokens.find((t) => t.jti === jti);
        assert.ok(token !== undefined && token.revoked === undefined, `token list shows ${jti} valid: ${JSON.stringify(listed)}`);
      }
      assert.deepEqual(listed.refreshTokens.map((f) => f.revokedAt), [undefined]);
    } finally {
      await client.close();
    }
  });

  it('refuses a refresh while the tenant is disabled, and the same refresh token works once it is enabled again', async () => {
    // What `tenant add | disable | enable` call, against the same shared state.
    await gateway.state.tenants.add({ id: 'lc-paused' });
    const first = await issueDevice('lc-paused', 'laptop');
    await assertToolWorks(first.access, 'before the pause');
    await gateway.state.tenants.setEnabled('lc-paused', false);

    const refused = await refreshOverHttp(first.refresh);
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'invalid_grant');
    assert.match(String(refused.body['error_description']), /disabled/);

    await gateway.state.tenants.setEnabled('lc-paused', true);
    const next = pairFrom(await refreshOverHttp(first.refresh));
    await sleep(STATE_CACHE_EXPIRY_MS);
    await assertToolWorks(next.access, 'the refreshed access token');
    await assertToolWorks(first.access, "the device's first access token");

    const listed = await listTokens('lc-paused');
    assert.ok(listed.tokens.length === 2 && listed.tokens.every((t) => t.revoked === undefined), JSON.stringify(listed));
    assert.deepEqual(listed.refreshTokens.map((f) => f.revokedAt), [undefined]);
  });
});

describe('reuse detection', () => {
  it('leaves no token of the family working, whichever of many simultaneous refreshes wins', async () => {
    const tenant = 'lc-race';
    for (let trial = 0; trial < 10; trial++) {
      const parallel = 2 + (trial % 7);
      const device = `racer-${trial}`;
      const first = await issueDevice(tenant, device);
      const answers = await Promise.all(Array.from({ length: parallel }, () => refreshOverHttp(first.refresh)));
      const won = answers.filter((a) => a.status === 200).map(pairFrom);
      const lost = answers.filter((a) => a.status !== 200);
      assert.ok(won.length <= 1, `trial ${trial}: ${won.length} of ${parallel} refreshes succeeded`);
      for (const answer of lost) {
        assert.equal(answer.status, 400);
        assert.equal(answer.body['error'], 'invalid_grant');
      }
      assert.ok(lost.some((a) => /already used/.test(String(a.body['error_description']))), `trial ${trial}: no reuse was detected`);

      await sleep(STATE_CACHE_EXPIRY_MS);
      await assertToolRevoked(first.access, `trial ${trial}: the first access token`);
      for (const pair of won) {
        await assertToolRevoked(pair.access, `trial ${trial}: the winner's new access token`);
        const next = await refreshOverHttp(pair.refresh);
        assert.equal(next.status, 400, `trial ${trial}: the winner's new refresh token still works`);
      }
      const listed = await gateway.state.ledger.listTenant(tenant);
      for (const token of listed.filter((t) => t.device === device)) assert.ok(token.revoked !== undefined, `trial ${trial}: token list shows ${token.jti} valid`);
      const families = (await gateway.state.refresh.listTenant(tenant)).filter((f) => f.device === device);
      assert.ok(families.length === 1 && families[0]?.revokedAt !== undefined, `trial ${trial}: the family is not listed revoked`);
    }
    const listed = await listTokens(tenant);
    assert.ok(listed.tokens.length > 0 && listed.tokens.every((t) => t.revoked !== undefined), 'token list shows a token of a reused family as valid');
  });
});

describe('device revocation during refreshes', () => {
  /** Refreshes one chain until it is refused, adding what it is given to `issued`; returns its last refresh token. */
  async function refreshLoop(start: Pair, revocation: { done: boolean }, issued: Pair[]): Promise<{ last: string; afterRevocation: number }> {
    let current = start.refresh;
    let afterRevocation = 0;
    for (;;) {
      const startedAfter = revocation.done;
      const answer = await refreshOverHttp(current);
      if (answer.status !== 200) {
        assert.equal(answer.body['error'], 'invalid_grant', JSON.stringify(answer.body));
        return { last: current, afterRevocation };
      }
      const pair = pairFrom(answer);
      issued.push(pair);
      current = pair.refresh;
      if (startedAfter) afterRevocation++;
      // A chain that outlives the revocation would loop forever; a few are enough to show it.
      if (afterRevocation > 5) return { last: current, afterRevocation };
    }
  }

  async function trial(tenant: string, device: string, chains: number, revoke: () => Promise<void>, waitBefore: number, jitterMs = 0): Promise<void> {
    const starts = await Promise.all(Array.from({ length: chains }, () => issueDevice(tenant, device)));
    const issued: Pair[] = [...starts];
    const revocation = { done: false };
    const loops = Promise.all(starts.map((start) => refreshLoop(start, revocation, issued)));
    // Let the loops run for a while (counted in refreshes, not time), then revoke in the middle of them.
    while (issued.length < starts.length + waitBefore) await sleep(1);
    await sleep(jitterMs);
    await revoke();
    revocation.done = true;
    const ends = await loops;

    for (const [i, end] of ends.entries()) {
      assert.ok(end.afterRevocation === 0, `${device}: chain ${i} went on for ${end.afterRevocation} refresh(es) started after the revocation`);
      const again = await refreshOverHttp(end.last);
      assert.equal(again.status, 400, `${device}: chain ${i}'s refresh token still works`);
    }
    // None of these tokens was used before, so no instance holds an answer about it in a cache.
    const probes = await Promise.all(issued.map((pair) => probeMcp(gateway.url, pair.access)));
    for (const [i, probe] of probes.entries()) {
      assert.equal(probe.status, 401, `${device}: access token ${i} of ${issued.length} still works`);
      assert.equal(probe.body['code'], 'TOKEN_REVOKED');
    }
    for (const end of ends) {
      const last = issued.findLast((p) => p.refresh === end.last) ?? issued[0]!;
      await assertToolRevoked(last.access, `${device}: the last access token of a chain`);
    }
    const listed = await gateway.state.ledger.listTenant(tenant);
    const mine = listed.filter((t) => t.device === device);
    assert.ok(mine.length >= issued.length, `${device}: ${mine.length} listed, ${issued.length} issued`);
    for (const token of mine) assert.ok(token.revoked !== undefined, `${device}: token list shows ${token.jti} valid`);
    const families = (await gateway.state.refresh.listTenant(tenant)).filter((f) => f.device === device);
    for (const family of families) assert.ok(family.revokedAt !== undefined, `${device}: token list shows a refresh chain valid`);
  }

  it('ends every chain of the device, whatever the moment the revocation lands', async () => {
    const tenant = 'lc-cut';
    for (let i = 0; i < 24; i++) {
      const device = `loop-${i}`;
      // The function `token revoke --device` calls, against the same shared state.
      await trial(tenant, device, 4, () => gateway.state.ledger.revokeDevice(tenant, device).then(() => undefined), 1 + ((i * 7) % 23), i % 11);
    }
  });

  it('ends the chains when the revocation comes from `token revoke --device`', async () => {
    const tenant = 'lc-cut-cli';
    const device = 'cli-laptop';
    await trial(tenant, device, 3, async () => {
      const done = await runCli(['token', 'revoke', '--device', device, '--tenant', tenant], cliEnv);
      assert.equal(done.code, 0, done.stderr);
    }, 2);
  });
});
