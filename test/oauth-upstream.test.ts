// Connector sign-in federated to an upstream OpenID provider: a real
// oidc-provider started here plays the company's identity provider. A person
// clicks "Sign in with …" on the gateway's page, signs in there, comes back,
// and OAUTH_UPSTREAM_TENANTS decides the tenant and scopes from the verified
// claims (verified email domain, group, any claim); the MCP SDK's own OAuth
// client then exchanges the code and calls tools as a device of that tenant.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Browser, Page } from 'playwright-core';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { closePage, launchBrowser, newPage, screenshot } from './support/browser.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { connectClient, mustCall, untilRefused } from './support/mcp.js';
import { MemoryOAuthClient, startCallback, type Callback } from './support/oauth.js';
import { signInAtIdp, startTestIdp, type People, type TestIdp } from './support/upstream-idp.js';

const PEOPLE: People = {
  alice: { email: 'alice@acme.test', email_verified: true, preferred_username: 'alice' },
  // In the admins' group; her email is not verified, so the domain rule alone would not take her.
  bob: { email: 'bob@acme.test', email_verified: false, groups: ['staff', 'graph-admins'] },
  carol: { email: 'carol@elsewhere.test', email_verified: true },
  // Claims an acme.test address the provider has not verified: no rule may take that as proof.
  eve: { email: 'eve@acme.test', email_verified: false, groups: ['staff'] },
  dave: { email: 'dave@beta.test', email_verified: true, org_id: 'org_beta' },
};

const RULES = 'group:graph-admins -> fed-admins read write admin; domain:acme.test -> fed-acme read write; claim:org_id=org_beta -> fed-beta read';

let db: TestFalkorDB;
let idp: TestIdp;
let gateway: RunningGateway;
let keyDir: string;
let cliEnv: Record<string, string>;
let browser: Browser;
let callback: Callback;

before(async () => {
  db = await startTestFalkorDB();
  keyDir = await tempDir('oauth-upstream-');
  const keyFile = await writeSigningKey(keyDir);
  idp = await startTestIdp();
  gateway = await startTestGateway(db.url, {
    AUTH_SIGNING_KEY_FILE: keyFile,
    ENROLMENT_CODE_ATTEMPTS: '1000',
    OAUTH_UPSTREAM_ISSUER: idp.issuer,
    OAUTH_UPSTREAM_CLIENT_ID: idp.clientId,
    OAUTH_UPSTREAM_CLIENT_SECRET: idp.clientSecret,
    OAUTH_UPSTREAM_TENANTS: RULES,
    OAUTH_UPSTREAM_NAME: 'Acme SSO',
  });
  await idp.register(`${gateway.url}/oauth/upstream/callback`, PEOPLE);
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent', PUBLIC_URL: gateway.url };
  browser = await launchBrowser();
  callback = await startCallback();
});

after(async () => {
  await callback?.close();
  await browser?.close();
  await gateway?.stop();
  await idp?.close();
  await db?.cleanup();
  await rm(keyDir, { recursive: true, force: true });
});

/** A browser page that reaches only this machine (the provider's built-in pages link a web font). */
async function localPage(kind: 'phone' | 'desktop' = 'desktop'): Promise<Page> {
  const page = await newPage(browser, kind);
  await page.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return page;
}

/** Starts the SDK's sign-in and opens its authorization URL; the page then shows the gateway's sign-in. */
async function startSignIn(page: Page, name = 'Claude'): Promise<MemoryOAuthClient> {
  const client = new MemoryOAuthClient(callback.url, { name });
  assert.equal(await auth(client, { serverUrl: `${gateway.url}/mcp` }), 'REDIRECT');
  await page.goto(client.authorizationUrl?.href ?? '');
  return client;
}

/** Signs in as `login` at the provider, then allows on the gateway's consent page; the SDK exchanges the code. */
async function federatedSignIn(login: string, name = 'Claude'): Promise<{ client: MemoryOAuthClient; consent: string }> {
  const page = await localPage();
  try {
    const client = await startSignIn(page, name);
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    await signInAtIdp(page, login);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    const consent = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    const redirected = callback.next();
    await page.getByRole('button', { name: 'Allow' }).click();
    const code = (await redirected).get('code');
    assert.ok(code !== null, 'the sign-in came back with a code');
    assert.equal(await auth(client, { serverUrl: `${gateway.url}/mcp`, authorizationCode: code }), 'AUTHORIZED');
    return { client, consent };
  } finally {
    await closePage(page);
  }
}

/** The access token's claims (the gateway's own JWT). */
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

async function auditEvents(tenant: string): Promise<Array<Record<string, string>>> {
  await gateway.state.audit.flush();
  const reply = (await gateway.state.store.command(['XRANGE', stateKeys.tenantAudit(tenant), '-', '+'])) as Array<[string, string[]]>;
  return reply.map(([, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] ?? ''] = flat[i + 1] ?? '';
    return fields;
  });
}

describe('signing in at the upstream OpenID provider', () => {
  it('maps a verified email domain to its tenant; the connector becomes a device that calls tools, refreshes and is cut off', async () => {
    const { client, consent } = await federatedSignIn('alice');
    assert.match(consent, /Signed in as alice@acme\.test at Acme SSO/);
    assert.match(consent, /Tenant fed-acme/);
    assert.match(consent, /Device claude-alice@acme\.test/);
    const tokens = client.saved;
    assert.ok(tokens !== undefined);
    assert.equal(tokens.scope, 'read write');
    const claims = claimsOf(tokens.access_token);
    assert.equal(claims['sub'], 'fed-acme');
    assert.equal(claims['device'], 'claude-alice@acme.test');
    assert.equal(claims['aud'], `${gateway.url}/mcp`);

    const mcp = await connectClient('http', gateway.url, tokens.access_token);
    await mustCall(mcp, 'falkordb_query', { graphName: 'notes', query: "CREATE (:Note {text: 'signed in at the provider'})" });
    await mcp.close();

    const listed = await runCliJson<{ tokens: Array<{ device?: string }> }>(['token', 'list', '--tenant', 'fed-acme', '--json'], cliEnv);
    assert.ok(listed.tokens.some((t) => t.device === 'claude-alice@acme.test'), JSON.stringify(listed));
    const events = await auditEvents('fed-acme');
    const signedIn = events.find((e) => e['event'] === 'upstream_sign_in');
    assert.ok(signedIn !== undefined, JSON.stringify(events));
    assert.equal(signedIn['device'], 'claude-alice@acme.test');
    assert.match(signedIn['detail'] ?? '', /user=alice@acme\.test rule="domain:acme\.test -> fed-acme read write"/);

    assert.equal(await auth(client, { serverUrl: `${gateway.url}/mcp` }), 'AUTHORIZED');
    assert.notEqual(client.saved?.refresh_token, tokens.refresh_token);
    const refreshed = await connectClient('http', gateway.url, client.saved?.access_token ?? '');
    const revoked = await runCli(['token', 'revoke', '--tenant', 'fed-acme', '--device', 'claude-alice@acme.test'], cliEnv);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(await untilRefused(refreshed), /revoked|401/i);
    await refreshed.close().catch(() => undefined);
  });

  it('takes the first rule that matches: a group before the domain, and a claim value', async () => {
    const admin = await federatedSignIn('bob', 'ChatGPT');
    const bob = claimsOf(admin.client.saved?.access_token ?? '');
    assert.equal(bob['sub'], 'fed-admins');
    assert.equal(admin.client.saved?.scope, 'read write admin');
    // Not verified, so the device is named after the subject, not the address.
    assert.equal(bob['device'], 'chatgpt-bob');

    const beta = await federatedSignIn('dave');
    assert.equal(claimsOf(beta.client.saved?.access_token ?? '')['sub'], 'fed-beta');
    assert.equal(beta.client.saved?.scope, 'read');
  });

  it('refuses a person no rule matches, and an unverified address claiming a mapped domain; nothing is granted', async () => {
    for (const [login, shown] of [['carol', 'carol@elsewhere.test'], ['eve', 'sub:eve']] as const) {
      const page = await localPage('phone');
      try {
        const client = await startSignIn(page);
        await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
        await signInAtIdp(page, login);
        await page.getByRole('heading', { name: 'This account has no access here' }).waitFor();
        const text = await page.locator('main').innerText();
        assert.ok(text.includes(shown), text);
        // Nothing about the tenants that exist, nor the rules.
        assert.doesNotMatch(text, /fed-|graph-admins|acme\.test ->/);
        if (login === 'carol') await screenshot(page, 'oauth-upstream-no-access');
        assert.equal(client.saved, undefined);
        assert.equal(await page.getByRole('button', { name: 'Allow' }).count(), 0);
      } finally {
        await closePage(page);
      }
    }
  });

  it('writes screenshots of the sign-in choice and the federated consent page', async () => {
    for (const kind of ['phone', 'desktop'] as const) {
      const page = await localPage(kind);
      try {
        await startSignIn(page);
        await page.getByRole('link', { name: 'Sign in with Acme SSO' }).waitFor();
        await screenshot(page, 'oauth-upstream-choice');
        await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
        await signInAtIdp(page, 'alice');
        await page.getByRole('button', { name: 'Allow' }).waitFor();
        await screenshot(page, 'oauth-upstream-consent');
        const redirected = callback.next();
        await page.getByRole('button', { name: 'Deny' }).click();
        assert.equal((await redirected).get('error'), 'access_denied');
      } finally {
        await closePage(page);
      }
    }
  });
});

describe('hostile upstream answers', () => {
  it('refuses the provider\'s answer in a browser that did not start the sign-in, and still lets the right one finish', async () => {
    const owner = await localPage();
    const stranger = await localPage();
    try {
      const client = await startSignIn(owner);
      const intercepted = idp.interceptNextAnswer();
      await owner.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
      await signInAtIdp(owner, 'alice');
      const answer = await intercepted;
      assert.match(answer, /code=.*state=|state=.*code=/);

      // Another browser (no interaction cookie) presented with the answer: nothing is shown or spent.
      const response = await stranger.goto(answer);
      assert.equal(response?.status(), 400);
      assert.match(await stranger.locator('h1').innerText(), /expired/);
      assert.equal(await stranger.getByRole('button', { name: 'Allow' }).count(), 0);

      await owner.goto(answer);
      await owner.getByRole('button', { name: 'Allow' }).waitFor();
      const redirected = callback.next();
      await owner.getByRole('button', { name: 'Allow' }).click();
      const code = (await redirected).get('code');
      assert.ok(code !== null);
      assert.equal(await auth(client, { serverUrl: `${gateway.url}/mcp`, authorizationCode: code }), 'AUTHORIZED');

      // The same answer again, in the browser that used it: spent.
      const replay = await owner.goto(answer);
      assert.equal(replay?.status(), 400);
      assert.match(await owner.locator('h1').innerText(), /expired/);
    } finally {
      await closePage(owner);
      await closePage(stranger);
    }
  });

  it('refuses a stored start or ticket changed by hand with STATE_RECORD_INVALID naming the record and field, never its value, and grants nothing', async () => {
    /** The 500 the gateway answers for a record of `kind` at `key` whose `field` is wrong. */
    const refusedFor = (body: string, kind: string, key: string, field: string) => {
      const parsed = JSON.parse(body) as { code: string; message: string };
      assert.equal(parsed.code, 'STATE_RECORD_INVALID');
      assert.ok(parsed.message.startsWith(`The ${kind} record stored at ${key} cannot be read: ${field}`), parsed.message);
      assert.doesNotMatch(parsed.message, /s3cret/);
    };
    const page = await localPage();
    try {
      // The start: read when the provider's answer arrives, and taken when the interaction finishes.
      const client = await startSignIn(page);
      const intercepted = idp.interceptNextAnswer();
      await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
      await signInAtIdp(page, 'alice');
      const answer = new URL(await intercepted);
      const startKey = stateKeys.oauthUpstream('start', answer.searchParams.get('state') ?? '');
      const back = await fetch(answer, { redirect: 'manual' });
      assert.equal(back.status, 303);
      const stored = JSON.parse(String(await gateway.state.store.get(startKey))) as Record<string, unknown>;
      await gateway.state.store.set(startKey, JSON.stringify({ ...stored, verifier: ['s3cret'] }));
      const atCallback = await fetch(answer, { redirect: 'manual' });
      assert.equal(atCallback.status, 500);
      refusedFor(await atCallback.text(), 'upstream sign-in start', startKey, 'verifier: invalid input: expected string');
      const atInteraction = await page.goto(new URL(back.headers.get('location') ?? '', gateway.url).href);
      assert.equal(atInteraction?.status(), 500);
      refusedFor(await page.locator('body').innerText(), 'upstream sign-in start', startKey, 'verifier: invalid input: expected string');
      assert.equal(await gateway.state.store.get(startKey), undefined, 'the start is spent all the same');

      // The ticket: taken when the person allows.
      await startSignIn(page);
      await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
      await signInAtIdp(page, 'alice');
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      const ticketKey = stateKeys.oauthUpstream('ticket', (await page.locator('input[name="ticket"]').getAttribute('value')) ?? '');
      const ticket = JSON.parse(String(await gateway.state.store.get(ticketKey))) as { grant: Record<string, unknown> };
      await gateway.state.store.set(ticketKey, JSON.stringify({ ...ticket, grant: { ...ticket.grant, scopes: ['read', 's3cret'] } }));
      const allowed = page.waitForResponse((r) => r.request().method() === 'POST');
      await page.getByRole('button', { name: 'Allow' }).click();
      assert.equal((await allowed).status(), 500);
      refusedFor(await page.locator('body').innerText(), 'upstream sign-in ticket', ticketKey, 'grant.scopes[1]: invalid option');
      assert.equal(client.saved, undefined);
    } finally {
      await closePage(page);
    }
  });

  it('answers an unknown state and a cancelled sign-in with a page, never a grant', async () => {
    const unknown = await fetch(`${gateway.url}/oauth/upstream/callback?code=forged&state=forged`, { redirect: 'manual' });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /This sign-in has expired/);

    const page = await localPage();
    try {
      const client = await startSignIn(page);
      await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
      await page.getByRole('link', { name: '[ Cancel ]' }).click();
      await page.getByRole('heading', { name: 'Sign-in not completed' }).waitFor();
      assert.equal(client.saved, undefined);
    } finally {
      await closePage(page);
    }
  });

  it('refuses a sign-in whose tenant is disabled', async () => {
    assert.equal((await runCli(['tenant', 'add', 'fed-beta'], cliEnv)).code, 0);
    assert.equal((await runCli(['tenant', 'disable', 'fed-beta'], cliEnv)).code, 0);
    const page = await localPage();
    try {
      await startSignIn(page);
      await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
      await signInAtIdp(page, 'dave');
      await page.getByRole('heading', { name: 'Access is turned off' }).waitFor();
      assert.doesNotMatch(await page.locator('main').innerText(), /tenant enable|fed-beta/);
    } finally {
      await closePage(page);
      await runCli(['tenant', 'enable', 'fed-beta'], cliEnv);
    }
  });

  it('says so, with a page, when the provider cannot be reached', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const keyFile = await writeSigningKey(keyDir, 'second.pem');
    const down = await startTestGateway(db.url, {
      AUTH_SIGNING_KEY_FILE: keyFile,
      OAUTH_UPSTREAM_ISSUER: `http://127.0.0.1:${closed}`,
      OAUTH_UPSTREAM_CLIENT_ID: 'x',
      OAUTH_UPSTREAM_TENANTS: RULES,
    });
    const page = await localPage();
    try {
      const client = new MemoryOAuthClient(callback.url);
      assert.equal(await auth(client, { serverUrl: `${down.url}/mcp` }), 'REDIRECT');
      await page.goto(client.authorizationUrl?.href ?? '');
      // Unnamed, the provider is called by its host.
      await page.getByRole('link', { name: 'Sign in with 127.0.0.1' }).click();
      await page.getByRole('heading', { name: '127.0.0.1 cannot be reached' }).waitFor();
      assert.match(await page.locator('main').innerText(), /could not reach 127\.0\.0\.1/);
      assert.equal(client.saved, undefined);
    } finally {
      await closePage(page);
      await down.stop();
    }
  });
});
