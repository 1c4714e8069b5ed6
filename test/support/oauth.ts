// An OAuth client as MCP hosts run one: the MCP SDK's own `auth()` with an
// OAuthClientProvider that keeps everything in memory, a loopback listener for
// the redirect, and a real browser that does what a person does on the sign-in pages.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Page } from 'playwright-core';

/** A loopback listener that takes the authorization response, as a desktop client's does. */
export interface Callback {
  url: string;
  /** The next redirect that arrives: its query (code, state, iss, or error); rejects when none comes in time. */
  next(timeoutMs?: number): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export async function startCallback(): Promise<Callback> {
  const waiting: Array<(query: URLSearchParams) => void> = [];
  const arrived: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // A browser also asks for /favicon.ico: only the callback path is an authorization response.
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const query = url.searchParams;
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('You can close this window.');
    const take = waiting.shift();
    if (take === undefined) arrived.push(query);
    else take(query);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    next: (timeoutMs = 60_000) => {
      const ready = arrived.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no redirect reached the callback within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((query) => {
          clearTimeout(timer);
          resolve(query);
        });
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Everything an MCP host keeps for one server, in memory; `authorizationUrl` is where it would send the person. */
export class MemoryOAuthClient implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  readonly clientMetadataUrl?: string;
  readonly #redirect: string;
  readonly #name: string;

  constructor(redirect: string, options: { name?: string; clientMetadataUrl?: string } = {}) {
    this.#redirect = redirect;
    this.#name = options.name ?? 'Test MCP host';
    if (options.clientMetadataUrl !== undefined) this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.#redirect;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.#name,
      redirect_uris: [this.#redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.info;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    return this.verifier;
  }
}

/** Types the enrolment code into the sign-in page and allows (or denies) on the next one. */
export async function approveInBrowser(page: Page, authorizationUrl: URL, code: string, decision: 'approve' | 'deny' = 'approve'): Promise<void> {
  await page.goto(authorizationUrl.href);
  await page.getByLabel('Enrolment code').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: decision === 'approve' ? 'Allow' : 'Deny' }).waitFor();
  await page.getByRole('button', { name: decision === 'approve' ? 'Allow' : 'Deny' }).click();
}

/**
 * The whole sign-in as a host runs it: discovery from the MCP URL, registration, the
 * browser's visit with `code`, and the exchange of what comes back on the callback.
 */
export async function signIn(mcpUrl: string, client: MemoryOAuthClient, callback: Callback, page: Page, code: string): Promise<OAuthTokens> {
  const first = await auth(client, { serverUrl: mcpUrl });
  if (first !== 'REDIRECT' || client.authorizationUrl === undefined) throw new Error(`expected a redirect to the sign-in, got ${first}`);
  const redirected = callback.next();
  await approveInBrowser(page, client.authorizationUrl, code);
  const query = await redirected;
  const authorizationCode = query.get('code');
  if (authorizationCode === null) throw new Error(`the sign-in came back without a code: ${query.toString()}`);
  const second = await auth(client, { serverUrl: mcpUrl, authorizationCode });
  if (second !== 'AUTHORIZED' || client.saved === undefined) throw new Error(`expected tokens, got ${second}`);
  return client.saved;
}
