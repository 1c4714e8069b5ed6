// Authentication at the HTTP edge: every bad token is a 401 with a Bearer
// challenge, SSE sessions stay with their tenant (more in sse-session.test.ts),
// and the plain endpoints.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { openRawSse } from './support/http.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken, TEST_AUDIENCE, TEST_ISSUER } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let rsaGateway: RunningGateway;
let tmp: string;
let rsaPublicPem: string;
let rsaPrivateKey: import('node:crypto').KeyObject;

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function postMcp(baseUrl: string, token: string | undefined, body: unknown = INIT): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return fetch(`${baseUrl}/mcp`, { method: 'POST', headers, body: JSON.stringify(body) });
}

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'gw-auth-'));
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  rsaPrivateKey = pair.privateKey;
  rsaPublicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(path.join(tmp, 'rsa.pub.pem'), rsaPublicPem);
  rsaGateway = await startTestGateway(db.url, { AUTH_JWT_SECRET: '', AUTH_PUBLIC_KEY_FILE: path.join(tmp, 'rsa.pub.pem') });
});

after(async () => {
  await rsaGateway?.stop();
  await gateway?.stop();
  await db?.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

describe('bad tokens get 401 with a Bearer challenge', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => Promise<string | undefined>, RegExp]> = [
    ['no token', async () => undefined, /No access token/],
    ['garbage', async () => 'not-a-jwt', /./],
    ['alg: none', async () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'acme', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: now() + 600, scope: 'read' })}.`, /./],
    ['wrong secret', () => signTestToken('acme', { secret: 'another-secret-that-is-also-32-bytes-long!!' }), /./],
    ['expired', () => signTestToken('acme', { expiresInSec: -120 }), /expired/i],
    ['not yet valid', () => signTestToken('acme', { notBeforeSec: 3600 }), /./],
    ['wrong audience', () => signTestToken('acme', { audience: 'someone-else' }), /audience/i],
    ['wrong issuer', () => signTestToken('acme', { issuer: 'https://evil.example' }), /issuer/i],
    ['no tenant claim', () => signTestToken('acme', { omitSub: true }), /tenant|sub/i],
  ];
  for (const [name, make, messagePattern] of cases) {
    it(`refuses ${name}`, async () => {
      const token = await make();
      const res = await postMcp(gateway.url, token);
      assert.equal(res.status, 401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer /);
      assert.match(challenge, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"/);
      if (token !== undefined) assert.match(challenge, /error="invalid_token"/);
      const text = await res.text();
      assert.match((JSON.parse(text) as { message: string }).message, messagePattern);
      if (token !== undefined) {
        assert.ok(!text.includes(token), 'the body never echoes the token');
        assert.ok(!challenge.includes(token), 'the challenge never echoes the token');
      }
    });
  }

  it('refuses an HS256 token signed with the RSA public key as secret', async () => {
    const forged = await new SignJWT({ scope: 'read write admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('acme')
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(rsaPublicPem));
    const res = await postMcp(rsaGateway.url, forged);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('accepts an RS256 token signed by the matching private key', async () => {
    const good = await new SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'RS256' }).setSubject('acme').setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setExpirationTime('1h').sign(rsaPrivateKey);
    const client = await connectClient('http', rsaGateway.url, good);
    assert.equal((await mustCall(client, 'falkordb_server_info')).tenant, 'acme');
    await client.close();
  });

  it('refuses a token in the URL when AUTH_ALLOW_QUERY_TOKEN=false', async () => {
    const strict = await startTestGateway(db.url, { AUTH_ALLOW_QUERY_TOKEN: 'false' });
    try {
      const token = await signTestToken('acme');
      const res = await fetch(`${strict.url}/sse/?token=${token}`);
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as { message: string }).message, /turned off/);
    } finally {
      await strict.stop();
    }
  });

  it('answers 403 insufficient_scope for a token without read', async () => {
    const res = await postMcp(gateway.url, await signTestToken('acme', { scope: 'profile' }));
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="read"/);
  });

  it('tells an OAuth bridge that tries to register after a refused token that a new config is needed', async () => {
    const res = await fetch(`${gateway.url}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description, /token .* was refused/);
  });
});

describe('SSE sessions belong to the tenant and token that opened them', () => {
  it("refuses a post to tenant A's session with tenant B's token", async () => {
    const session = await openRawSse(gateway.url, await signTestToken('sse-a'));
    try {
      const res = await fetch(`${gateway.url}${session.endpoint}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await signTestToken('sse-b')}` },
        body: JSON.stringify(INIT),
      });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { code: string }).code, 'SESSION_FORBIDDEN');
    } finally {
      session.close();
    }
  });

  it('refuses posts after the opening token has expired', async () => {
    const token = await signTestToken('sse-exp', { expiresInSec: 2 });
    const session = await openRawSse(gateway.url, token);
    try {
      await new Promise((r) => setTimeout(r, 2500));
      const res = await fetch(`${gateway.url}${session.endpoint}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(INIT) });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { code: string }).code, 'TOKEN_EXPIRED');
    } finally {
      session.close();
    }
  });

  it('refuses a post to an unknown session', async () => {
    const res = await fetch(`${gateway.url}/messages?sessionId=nope`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await signTestToken('sse-a')}` }, body: JSON.stringify(INIT) });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'SESSION_UNKNOWN');
  });
});

describe('concurrent tenants and devices', () => {
  it('3 tenants x 6 devices querying at once each see only their own rows', async () => {
    const tenants = ['conc-a', 'conc-b', 'conc-c'];
    const devices = await Promise.all(
      tenants.flatMap((tenant) =>
        Array.from({ length: 6 }, async (_, i) => ({ tenant, device: i, client: await connectClient(i % 2 === 0 ? 'http' : 'sse-header', gateway.url, await signTestToken(tenant)) })),
      ),
    );
    try {
      await Promise.all(devices.map(({ tenant, device, client }) => mustCall(client, 'falkordb_query', { graphName: 'shared', query: 'CREATE (:Row {tenant: $t, device: $d})', parameters: { t: tenant, d: device } })));
      const seen = await Promise.all(devices.map(({ client }) => mustCall(client, 'falkordb_query', { graphName: 'shared', query: 'MATCH (r:Row) RETURN DISTINCT r.tenant AS tenant, count(r) AS rows' })));
      devices.forEach(({ tenant }, i) => assert.deepEqual(seen[i]!.rows, [{ tenant, rows: 6 }]));
    } finally {
      await Promise.allSettled(devices.map(({ client }) => client.close()));
    }
  });
});

describe('plain endpoints', () => {
  it('serves liveness, readiness and RFC 9728 metadata without a token', async () => {
    assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
    const ready = await fetch(`${gateway.url}/readyz`);
    assert.equal(ready.status, 200);
    const meta = (await (await fetch(`${gateway.url}/.well-known/oauth-protected-resource`)).json()) as Record<string, unknown>;
    assert.equal(meta.resource, `${gateway.url}/mcp`);
    assert.deepEqual(meta.scopes_supported, ['read', 'write', 'admin']);
    assert.deepEqual(meta.bearer_methods_supported, ['header', 'query']);
  });

  it('answers GET /mcp with 405 and unknown paths with 404', async () => {
    assert.equal((await fetch(`${gateway.url}/mcp`)).status, 405);
    assert.equal((await fetch(`${gateway.url}/nope`)).status, 404);
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await postMcp(gateway.url, await signTestToken('acme'), { ...INIT, padding: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(res.status, 413);
  });

  it('reports readiness 503 while the database is down, and 200 once it is back', async () => {
    const own = await startTestFalkorDB();
    const gw = await startTestGateway(own.url);
    try {
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
      const early = await connectClient('http', gw.url, await signTestToken('early'));
      await mustCall(early, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
      await own.stop();
      const down = await fetch(`${gw.url}/readyz`);
      assert.equal(down.status, 503);
      assert.match(((await down.json()) as { reason: string }).reason, /database/i);
      // A tenant learns that the database is down, not where it runs.
      const failed = await callTool(early, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS n', readOnly: true });
      assert.equal(failed.ok, false);
      assert.match(failed.text, /DATABASE_UNREACHABLE/);
      assert.match(failed.text, /try again/i);
      assert.doesNotMatch(failed.text, new RegExp(`127\\.0\\.0\\.1|localhost|:${own.port}\\b|redis://`));
      await early.close();
      await own.restart();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = (await fetch(`${gw.url}/readyz`)).status;
      }
      assert.equal(status, 200);
      const client = await connectClient('http', gw.url, await signTestToken('back'));
      assert.equal((await callTool(client, 'falkordb_health')).ok, true);
      await client.close();
    } finally {
      await gw.stop();
      await own.cleanup();
    }
  });
});
