// The connector sign-in end to end, as Claude's and ChatGPT's connectors run it:
// the MCP SDK's own OAuth client discovers the authorization server from a 401,
// registers itself, sends a real browser (Chromium) to the sign-in page where an
// operator's enrolment code is typed and approved, exchanges the code with PKCE
// and `resource`, then calls tools, refreshes, and is cut off by `token revoke --device`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { importPKCS8, SignJWT } from 'jose';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { closePage, launchBrowser, newPage, screenshot } from './support/browser.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient, mustCall, untilRefused } from './support/mcp.js';
import { approveInBrowser, MemoryOAuthClient, signIn, startCallback, type Callback } from './support/oauth.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let keyDir: string;
let keyFile: string;
let cliEnv: Record<string, string>;
let browser: Browser;
let callback: Callback;

before(async () => {
  db = await startTestFalkorDB();
  keyDir = await tempDir('oauth-test-');
  keyFile = await writeSigningKey(keyDir);
  // Every sign-in of this file comes from 127.0.0.1; the limit itself has a test of its own.
  gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, ENROLMENT_CODE_ATTEMPTS: '1000' });
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent', PUBLIC_URL: gateway.url };
  browser = await launchBrowser();
  callback = await startCallback();
});

after(async () => {
  await callback?.close();
  await browser?.close();
  await gateway?.stop();
  await db?.cleanup();
  await rm(keyDir, { recursive: true, force: true });
});

async function enrol(tenant: string, device: string, scope = 'read write'): Promise<string> {
  const made = await runCliJson<{ code: string }>(['device', 'enrol', '--tenant', tenant, '--device', device, '--scope', scope, '--json'], cliEnv);
  return made.code;
}

async function page(kind: 'phone' | 'desktop' = 'desktop'): Promise<Page> {
  return newPage(browser, kind);
}

/** A form post as a browser sends it, without following the redirect. */
function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
}

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

describe('discovery', () => {
  it('names itself as the authorization server in the resource metadata, root and path form, and in the 401 challenge', async () => {
    for (const suffix of ['', '/mcp']) {
      const meta = (await (await fetch(`${gateway.url}/.well-known/oauth-protected-resource${suffix}`)).json()) as { resource: string; authorization_servers: string[] };
      assert.equal(meta.resource, `${gateway.url}/mcp`);
      assert.deepEqual(meta.authorization_servers, [gateway.url]);
    }
    const refused = await fetch(`${gateway.url}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer .*resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"/);
  });

  it('publishes RFC 8414 metadata with S256 only, the iss parameter, registration and client ID metadata documents', async () => {
    const meta = (await (await fetch(`${gateway.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(meta['issuer'], gateway.url);
    assert.deepEqual(meta['code_challenge_methods_supported'], ['S256']);
    assert.equal(meta['authorization_response_iss_parameter_supported'], true);
    assert.equal(meta['client_id_metadata_document_supported'], true);
    assert.equal(meta['registration_endpoint'], `${gateway.url}/oauth/register`);
    assert.equal(meta['token_endpoint'], `${gateway.url}/oauth/exchange`);
    assert.deepEqual(meta['response_types_supported'], ['code']);
    assert.equal(meta['pushed_authorization_request_endpoint'], undefined);
  });

  it('offers none of it when OAUTH_SERVER=false: no metadata, no authorization server named', async () => {
    const off = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, OAUTH_SERVER: 'false' });
    try {
      assert.equal((await fetch(`${off.url}/.well-known/oauth-authorization-server`)).status, 404);
      assert.equal((await fetch(`${off.url}/oauth/authorize`)).status, 404);
      const meta = (await (await fetch(`${off.url}/.well-known/oauth-protected-resource`)).json()) as { authorization_servers: string[] };
      assert.deepEqual(meta.authorization_servers, []);
    } finally {
      await off.stop();
    }
  });
});

describe('signing in through the MCP SDK OAuth client', () => {
  it('discovers, registers, signs in with an enrolment code, calls tools, refreshes, and is cut off by token revoke --device', async () => {
    const mcpUrl = `${gateway.url}/mcp`;
    const code = await enrol('oauth-acme', 'phone');
    const client = new MemoryOAuthClient(callback.url, { name: 'Claude' });
    const p = await page('phone');
    const tokens = await signIn(mcpUrl, client, callback, p, code);
    await closePage(p);

    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.refresh_token?.startsWith('fmgr_'), 'a refresh token of the gateway');
    assert.equal(tokens.scope, 'read write');
    // The access token is today's: tenant, device and scopes as claims, bound to this resource.
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims['sub'], 'oauth-acme');
    assert.equal(claims['device'], 'phone');
    assert.equal(claims['aud'], mcpUrl);

    const mcp = await connectClient('http', gateway.url, tokens.access_token);
    await mustCall(mcp, 'falkordb_query', { graphName: 'notes', query: "CREATE (:Note {text: 'from the phone'})" });
    const info = await mustCall(mcp, 'falkordb_server_info');
    assert.match(JSON.stringify(info), /oauth-acme/);
    await mcp.close();

    // `token list` shows the connector as the device the code named.
    const listed = await runCliJson<{ tokens: Array<{ device?: string; family?: string }> }>(['token', 'list', '--tenant', 'oauth-acme', '--json'], cliEnv);
    assert.ok(listed.tokens.some((t) => t.device === 'phone'), JSON.stringify(listed));

    // A refresh through the metadata's token endpoint: new tokens, rotated.
    const before = client.saved;
    assert.equal(await auth(client, { serverUrl: mcpUrl }), 'AUTHORIZED');
    assert.notEqual(client.saved?.access_token, before?.access_token);
    assert.notEqual(client.saved?.refresh_token, before?.refresh_token);
    const again = await connectClient('http', gateway.url, client.saved?.access_token ?? '');
    assert.equal((await mustCall(again, 'falkordb_query', { graphName: 'notes', query: 'MATCH (n:Note) RETURN count(n) AS n', readOnly: true }))['rowCount'], 1);

    // The operator cuts the device off: its access token and its refresh token stop working.
    const revoked = await runCli(['token', 'revoke', '--tenant', 'oauth-acme', '--device', 'phone'], cliEnv);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(await untilRefused(again), /revoked|401/i);
    await again.close().catch(() => undefined);
    await assert.rejects(auth(client, { serverUrl: mcpUrl }), /revoked/i);
  });

  it('binds a refresh token to its client: refused to another registered client and at /oauth/token, still refreshed by its own', async () => {
    const mcpUrl = `${gateway.url}/mcp`;
    const client = new MemoryOAuthClient(callback.url, { name: 'Claude' });
    const p = await page();
    const tokens = await signIn(mcpUrl, client, callback, p, await enrol('oauth-bound', 'tablet', 'read'));
    await closePage(p);
    const other = (await (await fetch(`${gateway.url}/oauth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Another host', redirect_uris: [callback.url], token_endpoint_auth_method: 'none' }),
    })).json()) as { client_id: string };
    assert.notEqual(other.client_id, client.info?.client_id);

    const byOther = await postForm(`${gateway.url}/oauth/exchange`, { grant_type: 'refresh_token', client_id: other.client_id, refresh_token: tokens.refresh_token ?? '' });
    assert.equal(byOther.status, 400);
    const otherBody = (await byOther.json()) as { error: string; error_description: string; access_token?: string };
    assert.equal(otherBody.error, 'invalid_grant');
    assert.match(otherBody.error_description, /belongs to another OAuth client.*Sign in again/);
    assert.equal(otherBody.access_token, undefined);

    const atTokenEndpoint = await postForm(`${gateway.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' });
    assert.equal(atTokenEndpoint.status, 400);
    const tokenBody = (await atTokenEndpoint.json()) as { error: string; error_description: string; access_token?: string };
    assert.equal(tokenBody.error, 'invalid_grant');
    assert.match(tokenBody.error_description, /issued to an OAuth client.*\/oauth\/exchange/);
    assert.equal(tokenBody.access_token, undefined);

    // Neither refusal spent the token or ended its family: the client it was issued to refreshes as before.
    assert.equal(await auth(client, { serverUrl: mcpUrl }), 'AUTHORIZED');
    const rotated = client.saved?.refresh_token ?? '';
    assert.notEqual(rotated, tokens.refresh_token);
    const mcp = await connectClient('http', gateway.url, client.saved?.access_token ?? '');
    await mustCall(mcp, 'falkordb_health');
    await mcp.close();
    // The rotated token is bound to the same client.
    const rotatedByOther = await postForm(`${gateway.url}/oauth/exchange`, { grant_type: 'refresh_token', client_id: other.client_id, refresh_token: rotated });
    assert.equal(rotatedByOther.status, 400);
    assert.match(await rotatedByOther.text(), /belongs to another OAuth client/);
  });

  it('writes screenshots of every sign-in page at phone and desktop width', async () => {
    for (const kind of ['phone', 'desktop'] as const) {
      const code = await enrol('oauth-shots', `shots-${kind}`, 'read');
      const client = new MemoryOAuthClient(callback.url, { name: 'Claude' });
      assert.equal(await auth(client, { serverUrl: `${gateway.url}/mcp` }), 'REDIRECT');
      const p = await page(kind);
      await p.goto(client.authorizationUrl?.href ?? '');
      await screenshot(p, 'oauth-enrol');
      await p.getByLabel('Enrolment code').fill('WRONG-CODE-1234-5678');
      await p.getByRole('button', { name: 'Continue' }).click();
      await p.getByRole('alert').waitFor();
      await screenshot(p, 'oauth-enrol-wrong-code');
      await p.getByLabel('Enrolment code').fill(code);
      await p.getByRole('button', { name: 'Continue' }).click();
      await p.getByRole('button', { name: 'Allow' }).waitFor();
      await screenshot(p, 'oauth-consent');
      const redirected = callback.next();
      await p.getByRole('button', { name: 'Deny' }).click();
      const query = await redirected;
      assert.equal(query.get('error'), 'access_denied');
      assert.equal(query.get('code'), null);
      await p.goto(`${gateway.url}/oauth/interaction/nonexistent`);
      await screenshot(p, 'oauth-expired');
      await closePage(p);
    }
  });
});

describe('hostile sign-ins', () => {
  /** Registers a client and starts an authorization; returns the interaction page's URL and what is needed to finish. */
  async function startAuthorization(extra: Record<string, string> = {}): Promise<{ clientId: string; verifier: string; location: string; response: Response }> {
    const registered = (await (await fetch(`${gateway.url}/oauth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Probe', redirect_uris: [callback.url], token_endpoint_auth_method: 'none' }),
    })).json()) as { client_id: string };
    const { verifier, challenge } = pkcePair();
    const query = new URLSearchParams({
      client_id: registered.client_id,
      response_type: 'code',
      redirect_uri: callback.url,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'read',
      state: 'st',
      resource: `${gateway.url}/mcp`,
      ...extra,
    });
    for (const [k, v] of Object.entries(extra)) if (v === '') query.delete(k);
    const response = await fetch(`${gateway.url}/oauth/authorize?${query}`, { redirect: 'manual' });
    return { clientId: registered.client_id, verifier, location: response.headers.get('location') ?? '', response };
  }

  /** Runs a sign-in in the browser with `code` and returns the authorization code the client got. */
  async function codeFor(enrolment: string, extra: Record<string, string> = {}): Promise<{ clientId: string; verifier: string; authorizationCode: string }> {
    const started = await startAuthorization(extra);
    const p = await page();
    // The cookie the authorization set lives in the browser that follows the redirect, so the browser starts it.
    const url = new URL(started.response.url);
    const redirected = callback.next();
    await approveInBrowser(p, url, enrolment);
    const query = await redirected;
    await closePage(p);
    const authorizationCode = query.get('code');
    assert.ok(authorizationCode, query.toString());
    return { clientId: started.clientId, verifier: started.verifier, authorizationCode };
  }

  function exchange(clientId: string, code: string, verifier: string, resource = `${gateway.url}/mcp`, at = gateway.url): Promise<Response> {
    return postForm(`${at}/oauth/exchange`, { grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: callback.url, resource });
  }

  it('refuses a wrong PKCE verifier, and then the right one too: the code is spent', async () => {
    const got = await codeFor(await enrol('oauth-hostile', 'pkce', 'read'));
    const wrong = await exchange(got.clientId, got.authorizationCode, pkcePair().verifier);
    assert.equal(wrong.status, 400);
    const body = (await wrong.json()) as { error: string; access_token?: string };
    assert.equal(body.error, 'invalid_grant');
    assert.equal(body.access_token, undefined);
  });

  it('refuses a replayed authorization code, and revokes what its first exchange gave', async () => {
    const got = await codeFor(await enrol('oauth-hostile', 'replay', 'read'));
    const first = await exchange(got.clientId, got.authorizationCode, got.verifier);
    assert.equal(first.status, 200, await first.clone().text());
    const tokens = (await first.json()) as { access_token: string; refresh_token: string };
    const mcp = await connectClient('http', gateway.url, tokens.access_token);
    await mustCall(mcp, 'falkordb_health');
    const second = await exchange(got.clientId, got.authorizationCode, got.verifier);
    assert.equal(second.status, 400);
    assert.equal(((await second.json()) as { error: string }).error, 'invalid_grant');
    // RFC 6749 §4.1.2: what the first exchange gave is revoked too, since either holder may be the thief.
    let cut = false;
    for (let i = 0; i < 40 && !cut; i++) {
      cut = !(await callTool(mcp, 'falkordb_health').catch(() => ({ ok: false }))).ok;
      if (!cut) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(cut, 'the access token of the first exchange still works');
    const refreshed = await postForm(`${gateway.url}/oauth/exchange`, { grant_type: 'refresh_token', client_id: got.clientId, refresh_token: tokens.refresh_token });
    assert.equal(refreshed.status, 400);
    await mcp.close().catch(() => undefined);
  });

  it('answers a stored sign-in grant or client changed by hand with a server error, and logs STATE_RECORD_INVALID with the key and field, never the value', async () => {
    // A second instance on the same state, whose log the test reads.
    const log = captureLog();
    const logged = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, PUBLIC_URL: gateway.url }, log.stream);
    // Its own listener: its url is the PUBLIC_URL the two share.
    const loggedAt = `http://127.0.0.1:${logged.port}`;
    try {
      const enrolment = await enrol('oauth-hostile', 'mangled', 'read');
      const accountId = (await gateway.state.enrolments.peek(enrolment))?.id ?? '';
      const got = await codeFor(enrolment);
      const grantKey = stateKeys.oauthAccount(accountId);
      const grant = JSON.parse(String(await gateway.state.store.get(grantKey))) as Record<string, unknown>;
      await gateway.state.store.set(grantKey, JSON.stringify({ ...grant, scopes: ['read', 's3cret'] }));
      const exchanged = await exchange(got.clientId, got.authorizationCode, got.verifier, `${gateway.url}/mcp`, loggedAt);
      assert.equal(exchanged.status, 500);
      const body = (await exchanged.json()) as { error: string; access_token?: string };
      assert.equal(body.error, 'server_error');
      assert.equal(body.access_token, undefined);
      assert.ok(log.text().includes(`The OAuth sign-in grant record stored at ${grantKey} cannot be read: scopes[1]: invalid option`), log.text());

      // A registered client's record (oidc-provider's own), read when an authorization names it.
      const clientKey = stateKeys.oauth('Client', got.clientId);
      const client = JSON.parse(String(await gateway.state.store.get(clientKey))) as Record<string, unknown>;
      await gateway.state.store.set(clientKey, JSON.stringify({ ...client, client_id: ['s3cret'] }));
      const authorize = await fetch(`${loggedAt}/oauth/authorize?${new URLSearchParams({ client_id: got.clientId, response_type: 'code', redirect_uri: callback.url, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', scope: 'read', resource: `${gateway.url}/mcp` })}`, { redirect: 'manual' });
      assert.equal(authorize.status, 500);
      assert.equal(authorize.headers.get('location'), null);
      assert.match(await authorize.text(), /This sign-in cannot go on/);
      assert.ok(log.text().includes(`The OAuth Client record stored at ${clientKey} cannot be read: client_id: invalid input: expected string`), log.text());
      assert.doesNotMatch(log.text(), /s3cret/);
    } finally {
      await logged.stop();
    }
  });

  it('refuses an authorization request without a resource, or for another resource', async () => {
    for (const resource of ['', 'https://other.example/mcp']) {
      const { location, response } = await startAuthorization({ resource });
      assert.equal(response.status, 303);
      const back = new URL(location);
      assert.equal(back.origin + back.pathname, callback.url);
      assert.equal(back.searchParams.get('error'), 'invalid_target');
      assert.equal(back.searchParams.get('code'), null);
    }
  });

  it('refuses to register or redirect to a redirect URI it does not allow, showing a page instead of redirecting', async () => {
    const registration = await fetch(`${gateway.url}/oauth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Evil', redirect_uris: ['https://evil.example/callback'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(registration.status, 400);
    assert.match(await registration.text(), /invalid_redirect_uri.*not allowed here/);
    const { response } = await startAuthorization({ redirect_uri: 'https://evil.example/callback' });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    assert.match(await response.text(), /This sign-in cannot go on/);
  });

  it('refuses a consent form without its token, or from another site, and grants nothing', async () => {
    const { response } = await startAuthorization();
    const interaction = new URL(response.headers.get('location') ?? '', gateway.url);
    const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const code = await enrol('oauth-hostile', 'csrf', 'read');
    const forged = await postForm(`${interaction.href}/decision`, { decision: 'approve', code, csrf: 'forged' }, { Cookie: cookie });
    assert.equal(forged.status, 403);
    assert.match(await forged.text(), /did not come from this sign-in/);
    const crossSite = await postForm(`${interaction.href}/decision`, { decision: 'approve', code, csrf: 'x' }, { Cookie: cookie, Origin: 'https://evil.example' });
    assert.equal(crossSite.status, 403);
    // The code was not spent: it still works in a real sign-in.
    const got = await codeFor(code);
    assert.equal((await exchange(got.clientId, got.authorizationCode, got.verifier)).status, 200);
  });

  it('refuses an enrolment code used twice, and a code that was never made', async () => {
    const code = await enrol('oauth-hostile', 'twice', 'read');
    await codeFor(code);
    const started = await startAuthorization();
    const p = await page();
    await p.goto(started.response.url);
    await p.getByLabel('Enrolment code').fill(code);
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.getByRole('alert').waitFor();
    assert.match(await p.getByRole('alert').innerText(), /not valid/);
    await p.getByLabel('Enrolment code').fill('ABCD-EFGH-JKMN-PQRS');
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.getByRole('alert').waitFor();
    assert.match(await p.getByRole('alert').innerText(), /not valid/);
    await closePage(p);
  });

  it('stops an address after ENROLMENT_CODE_ATTEMPTS codes in ten minutes, with a 429 page', async () => {
    const strict = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, ENROLMENT_CODE_ATTEMPTS: '2' });
    try {
      const client = new MemoryOAuthClient(callback.url);
      assert.equal(await auth(client, { serverUrl: `${strict.url}/mcp` }), 'REDIRECT');
      const p = await page('phone');
      await p.goto(client.authorizationUrl?.href ?? '');
      const statuses: number[] = [];
      p.on('response', (r) => {
        if (r.request().method() === 'POST') statuses.push(r.status());
      });
      for (let i = 0; i < 2; i++) {
        await p.getByLabel('Enrolment code').fill(`WRONG-${i}`);
        await p.getByRole('button', { name: 'Continue' }).click();
        await p.getByRole('alert').waitFor();
      }
      // The right code, but too late: the address has used its attempts.
      await p.getByLabel('Enrolment code').fill(await enrol('oauth-hostile', 'limited', 'read'));
      await p.getByRole('button', { name: 'Continue' }).click();
      await p.getByRole('heading', { name: 'Too many attempts' }).waitFor();
      await screenshot(p, 'oauth-too-many-attempts');
      assert.deepEqual(statuses, [400, 400, 429]);
      await closePage(p);
    } finally {
      await strict.stop();
    }
  });

  it('refuses a token the gateway signed for another audience', async () => {
    const key = await importPKCS8(await readFile(keyFile, 'utf8'), 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({ scope: 'read' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('falkordb-mcp-gateway')
      .setAudience('https://other.example/mcp')
      .setSubject('oauth-hostile')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(key);
    const res = await fetch(`${gateway.url}/mcp`, { method: 'POST', headers: { Authorization: `Bearer ${foreign}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /TOKEN_AUDIENCE_INVALID|TOKEN_KEY_UNKNOWN/);
  });
});

describe('two instances', () => {
  it('signs in on one, uses the token on the other, and a revocation on either cuts it off on both', async () => {
    const second = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, PUBLIC_URL: gateway.url, ENROLMENT_CODE_ATTEMPTS: '1000' });
    try {
      const code = await enrol('oauth-two', 'laptop', 'read write');
      const client = new MemoryOAuthClient(callback.url);
      const p = await page();
      const tokens = await signIn(`${gateway.url}/mcp`, client, callback, p, code);
      await closePage(p);
      const other = await connectClient('http', second.url, tokens.access_token);
      await mustCall(other, 'falkordb_list_graphs');
      const revoked = await runCli(['token', 'revoke', '--tenant', 'oauth-two', '--device', 'laptop'], cliEnv);
      assert.equal(revoked.code, 0, revoked.stderr);
      let cut = false;
      for (let i = 0; i < 40 && !cut; i++) {
        const outcome = await callTool(other, 'falkordb_list_graphs').catch(() => ({ ok: false }));
        cut = !outcome.ok;
        if (!cut) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(cut, 'the other instance still served the revoked token');
      await other.close().catch(() => undefined);
    } finally {
      await second.stop();
    }
  });
});
