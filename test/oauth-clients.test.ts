// Two more real clients of the gateway's OAuth sign-in:
// - the real mcp-remote started with no --header: it discovers the authorization
//   server from the 401, registers itself, and opens "a browser", which here is a
//   script that hands the URL to the test; headless Chromium types the enrolment
//   code and allows, mcp-remote takes the callback on its own loopback port, and
//   the test then speaks MCP to it over stdio;
// - a client ID metadata document: the client's id is an https URL the test serves
//   (self-signed, trusted by the gateway process through NODE_EXTRA_CA_CERTS), read
//   by the gateway, then the MCP SDK's own `auth()` signs in with it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Browser } from 'playwright-core';
import type { RunningGateway } from '../src/main.js';
import { freeLoopbackPort } from './support/ports.js';
import { closePage, launchBrowser, newPage, screenshot } from './support/browser.js';
import { runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { connectClient, mustCall, REPO_ROOT } from './support/mcp.js';
import { approveInBrowser, MemoryOAuthClient, startCallback, type Callback } from './support/oauth.js';
import { startServeProcess, type ServeProcess } from './support/soak.js';
import { selfSignedCertificate, startJsonServer, type JsonServer, type SelfSigned } from './support/tls.js';

const MCP_REMOTE = path.join(REPO_ROOT, 'node_modules', '.bin', 'mcp-remote');

let db: TestFalkorDB;
let dir: string;
let keyFile: string;
let browser: Browser;

before(async () => {
  db = await startTestFalkorDB();
  dir = await tempDir('oauth-clients-');
  keyFile = await writeSigningKey(dir);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await db?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

function cliEnvFor(publicUrl: string): Record<string, string> {
  return { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent', PUBLIC_URL: publicUrl };
}

async function enrol(publicUrl: string, tenant: string, device: string, scope = 'read write'): Promise<string> {
  const made = await runCliJson<{ code: string }>(['device', 'enrol', '--tenant', tenant, '--device', device, '--scope', scope, '--json'], cliEnvFor(publicUrl));
  return made.code;
}

async function devicesOf(publicUrl: string, tenant: string): Promise<Array<string | undefined>> {
  const listed = await runCliJson<{ tokens: Array<{ device?: string }> }>(['token', 'list', '--tenant', tenant, '--json'], cliEnvFor(publicUrl));
  return listed.tokens.map((t) => t.device);
}

/**
 * The "browser" mcp-remote opens. mcp-remote calls the `open` package, which on Linux
 * runs its own bundled xdg-open (node_modules/open/xdg-open); with no desktop session
 * that script runs what $BROWSER names. mcp-remote's fallbacks are /usr/bin/xdg-open
 * (which reads $BROWSER the same way), then gio, x-www-browser and sensible-browser
 * from PATH. So the script is both $BROWSER and, first on PATH, x-www-browser and
 * xdg-open: it appends the URL to a file the test reads.
 */
async function fakeBrowser(home: string): Promise<{ env: Record<string, string>; nextUrl: (gaveUp: () => boolean, timeoutMs?: number) => Promise<string> }> {
  const bin = path.join(home, 'bin');
  const opened = path.join(home, 'opened-urls');
  await writeFile(opened, '');
  const script = `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`;
  await mkdir(bin, { recursive: true });
  for (const name of ['fake-browser', 'xdg-open', 'x-www-browser']) {
    await writeFile(path.join(bin, name), script);
    await chmod(path.join(bin, name), 0o755);
  }
  let seen = 0;
  return {
    env: { BROWSER: path.join(bin, 'fake-browser'), PATH: `${bin}:${process.env.PATH ?? ''}` },
    nextUrl: async (gaveUp, timeoutMs = 120_000) => {
      for (let waited = 0; waited < timeoutMs && !gaveUp(); waited += 200) {
        const lines = (await readFile(opened, 'utf8')).split('\n').filter((l) => l !== '');
        if (lines.length > seen) return lines[seen++]!;
        await sleep(200);
      }
      throw new Error(`mcp-remote opened no browser${gaveUp() ? ' before it gave up' : ` within ${timeoutMs} ms`}`);
    },
  };
}

describe('the real mcp-remote with no --header', () => {
  let gateway: RunningGateway;
  let home: string;

  before(async () => {
    // Every sign-in of this file comes from 127.0.0.1; the limit has a test of its own.
    gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, ENROLMENT_CODE_ATTEMPTS: '1000' });
    home = await tempDir('mcp-remote-oauth-home-');
  });

  after(async () => {
    await gateway?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('discovers the authorization server from the 401, registers, signs in through the browser it opens, and calls tools', async () => {
    const mcpUrl = `${gateway.url}/mcp`;
    const code = await enrol(gateway.url, 'remote-oauth', 'remote-laptop');
    const opener = await fakeBrowser(home);
    const callbackPort = await freeLoopbackPort();
    const transport = new StdioClientTransport({
      command: MCP_REMOTE,
      args: [mcpUrl, String(callbackPort), '--allow-http', '--debug'],
      env: { HOME: home, MCP_REMOTE_CONFIG_DIR: path.join(home, '.mcp-auth'), ...opener.env },
      cwd: home,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' });
    // mcp-remote answers `initialize` only once it holds a token: connect and sign in at once.
    const connected = client.connect(transport, { timeout: 240_000 });
    let gaveUp = false;
    connected.catch(() => (gaveUp = true));
    try {
      const signedIn = (async () => {
        const url = new URL(await opener.nextUrl(() => gaveUp));
        assert.equal(url.origin + url.pathname, `${gateway.url}/oauth/authorize`, url.href);
        assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
        assert.equal(url.searchParams.get('resource'), mcpUrl);
        assert.equal(url.searchParams.get('redirect_uri'), `http://localhost:${callbackPort}/oauth/callback`);
        const p = await newPage(browser, 'desktop');
        try {
          await p.goto(url.href);
          await screenshot(p, 'mcp-remote-enrol');
          await p.getByLabel('Enrolment code').fill(code);
          await p.getByRole('button', { name: 'Continue' }).click();
          await p.getByRole('button', { name: 'Allow' }).waitFor();
          await screenshot(p, 'mcp-remote-consent');
          await p.getByRole('button', { name: 'Allow' }).click();
          // mcp-remote's own callback page: the browser ends on its loopback port.
          await p.waitForURL((u) => u.port === String(callbackPort), { timeout: 60_000 });
        } finally {
          await closePage(p);
        }
      })();
      const [signIn, connect] = await Promise.allSettled([signedIn, connected]);
      if (signIn.status === 'rejected') throw new Error(`the sign-in failed: ${String(signIn.reason)}\n${stderr}`);
      if (connect.status === 'rejected') throw new Error(`mcp-remote did not connect: ${String(connect.reason)}\n${stderr}`);

      await mustCall(client, 'falkordb_list_graphs');
      await mustCall(client, 'falkordb_query', { graphName: 'remote-notes', query: 'CREATE (:Note {text: $text})', parameters: { text: 'signed in through mcp-remote' } });
      const read = await mustCall(client, 'falkordb_query', { graphName: 'remote-notes', query: 'MATCH (n:Note) RETURN n.text AS text', readOnly: true });
      assert.deepEqual(read['rows'], [{ text: 'signed in through mcp-remote' }]);
      assert.equal((await mustCall(client, 'falkordb_server_info'))['tenant'], 'remote-oauth');
      assert.match(stderr, /StreamableHTTPClientTransport/, 'mcp-remote used Streamable HTTP');
    } finally {
      await client.close().catch(() => undefined);
    }
    assert.ok((await devicesOf(gateway.url, 'remote-oauth')).includes('remote-laptop'));
  });
});

describe('a client ID metadata document', () => {
  let tls: SelfSigned;
  let documents: JsonServer;
  let callback: Callback;
  let gateway: ServeProcess;

  before(async () => {
    tls = selfSignedCertificate(dir);
    documents = await startJsonServer(tls);
    callback = await startCallback();
    gateway = await startServeProcess({
      FALKORDB_URL: db.url,
      AUTH_SIGNING_KEY_FILE: keyFile,
      ENROLMENT_CODE_ATTEMPTS: '1000',
      OAUTH_METADATA_PRIVATE_ADDRESSES: 'true',
      NODE_EXTRA_CA_CERTS: tls.certFile,
    });
  });

  after(async () => {
    await gateway?.stop();
    await callback?.close();
    await documents?.close();
  });

  function document(pathname: string, redirect: string): string {
    const clientId = `${documents.origin}${pathname}`;
    documents.serve(pathname, {
      client_id: clientId,
      client_name: 'Metadata document client',
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    return clientId;
  }

  it('is read by the gateway from its https URL: sign-in in the browser, tokens, a tool call', async () => {
    const mcpUrl = `${gateway.url}/mcp`;
    const clientId = document('/clients/good.json', callback.url);
    const client = new MemoryOAuthClient(callback.url, { name: 'Metadata document client', clientMetadataUrl: clientId });
    assert.equal(await auth(client, { serverUrl: mcpUrl }), 'REDIRECT');
    // No registration: the client id is the document's URL.
    assert.equal(client.authorizationUrl?.searchParams.get('client_id'), clientId);
    const code = await enrol(gateway.url, 'cimd-acme', 'cimd-device');
    const redirected = callback.next();
    const p = await newPage(browser, 'desktop');
    try {
      await approveInBrowser(p, client.authorizationUrl!, code);
      const query = await redirected;
      const authorizationCode = query.get('code');
      assert.ok(authorizationCode, query.toString());
      assert.equal(await auth(client, { serverUrl: mcpUrl, authorizationCode }), 'AUTHORIZED');
    } finally {
      await closePage(p);
    }
    assert.ok(documents.requests.includes('/clients/good.json'), 'the gateway fetched the document');
    const mcp = await connectClient('http', gateway.url, client.saved?.access_token ?? '');
    await mustCall(mcp, 'falkordb_query', { graphName: 'cimd', query: "CREATE (:Note {text: 'by metadata document'})" });
    assert.equal((await mustCall(mcp, 'falkordb_server_info'))['tenant'], 'cimd-acme');
    await mcp.close();
    assert.ok((await devicesOf(gateway.url, 'cimd-acme')).includes('cimd-device'));
  });

  it('refuses a document whose redirect URI the gateway does not allow: an error page, no sign-in page', async () => {
    const evil = 'https://evil.example/cb';
    const clientId = document('/clients/evil.json', evil);
    const client = new MemoryOAuthClient(evil, { clientMetadataUrl: clientId });
    assert.equal(await auth(client, { serverUrl: `${gateway.url}/mcp` }), 'REDIRECT');
    const response = await fetch(client.authorizationUrl!, { redirect: 'manual' });
    const body = await response.text();
    assert.equal(response.status, 400, body);
    assert.equal(response.headers.get('location'), null);
    assert.match(body, /This sign-in cannot go on/);
    assert.match(body, /redirect_uri &quot;https:\/\/evil\.example\/cb&quot; is not allowed here/);
    assert.doesNotMatch(body, /Enrolment code/);
  });

  it('refuses a document on a loopback address when OAUTH_METADATA_PRIVATE_ADDRESSES is off', async () => {
    const strict = await startServeProcess({ FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, NODE_EXTRA_CA_CERTS: tls.certFile });
    try {
      const clientId = document('/clients/private.json', callback.url);
      const client = new MemoryOAuthClient(callback.url, { clientMetadataUrl: clientId });
      assert.equal(await auth(client, { serverUrl: `${strict.url}/mcp` }), 'REDIRECT');
      const response = await fetch(client.authorizationUrl!, { redirect: 'manual' });
      const body = await response.text();
      assert.equal(response.status, 400, body);
      assert.equal(response.headers.get('location'), null);
      assert.match(body, /This sign-in cannot go on/);
      // The reason and the setting for the operator, the host and nothing else of the fetch.
      assert.match(body, /metadata document is at 127\.0\.0\.1, a loopback or private address/);
      assert.match(body, /OAUTH_METADATA_PRIVATE_ADDRESSES=true/);
      assert.doesNotMatch(body, /fetch failed|special-use|\bat [A-Za-z]+ \(/);
      assert.doesNotMatch(body, /Enrolment code/);
      assert.ok(!documents.requests.includes('/clients/private.json'), 'the gateway did not fetch from a loopback address');
    } finally {
      await strict.stop();
    }
  });
});
