// A real OpenID provider for the federation tests: oidc-provider on a free
// loopback port, with its built-in login and consent pages (any password) and
// a fixed set of people. The listener comes up first, so the gateway can be
// started with its issuer URL; the provider itself is made once the gateway's
// callback URL is known (`register`).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';

/** The people who can sign in, by login name: the claims the provider holds for each. */
export type People = Record<string, Record<string, unknown>>;

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Makes the provider, with one confidential client allowed to redirect to `redirectUri`. */
  register(redirectUri: string, people: People): Promise<void>;
  /**
   * The next answer the provider sends to the client, kept from the browser: the page shows
   * the answer's URL as text instead of redirecting, as if someone had taken it on the way.
   */
  interceptNextAnswer(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIdp(): Promise<TestIdp> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let callbackUrl = '';
  let intercept: ((url: string) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (handler === undefined) {
      res.writeHead(503).end();
      return;
    }
    if (intercept !== undefined) {
      const end = res.end.bind(res) as (body?: unknown) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        const location = String(res.getHeader('location') ?? '');
        if (intercept === undefined || !location.startsWith(`${callbackUrl}?`)) return end(...(args as [unknown]));
        const take = intercept;
        intercept = undefined;
        take(location);
        res.statusCode = 200;
        res.removeHeader('location');
        res.removeHeader('content-length');
        res.setHeader('content-type', 'text/plain');
        return end(location);
      }) as typeof res.end;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'falkordb-gateway';
  const clientSecret = 'a-test-client-secret-of-the-upstream';
  return {
    issuer,
    clientId,
    clientSecret,
    interceptNextAnswer: () => new Promise((resolve) => (intercept = resolve)),
    async register(redirectUri, people) {
      callbackUrl = redirectUri;
      const { default: Provider } = await import('oidc-provider');
      // The development-only login pages print a warning on first use; it says nothing to a test run.
      const warn = console.warn;
      console.warn = () => undefined;
      try {
        const provider = new Provider(issuer, {
          clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
          claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'groups', 'org_id'] },
          findAccount: (_ctx, id) => (Object.hasOwn(people, id) ? { accountId: id, claims: () => ({ sub: id, ...people[id] }) } : undefined),
          pkce: { required: () => true },
          features: { devInteractions: { enabled: true } },
          cookies: { keys: ['upstream-test-cookie-key'] },
        });
        handler = provider.callback();
      } finally {
        console.warn = warn;
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Signs in on the provider's own pages as `login` and allows the gateway. */
export async function signInAtIdp(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}
