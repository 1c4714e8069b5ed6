// The gateway as an OAuth 2.1 authorization server, on oidc-provider: it runs
// discovery (RFC 8414), client registration (RFC 7591 and client ID metadata
// documents), the authorization-code grant with PKCE S256 and resource
// indicators (RFC 8707), and the interaction that asks for an enrolment code.
// What a client gets at the end is the gateway's own access and refresh
// tokens, minted by TokenIssuer as `token issue` mints them: the provider's
// own access token is discarded, so revocation, `token list`, rate limits,
// audit and usage treat a connector like any other device.
//
// One file over 300 lines: oidc-provider takes its whole configuration at once, and the
// grant hooks below read the same configuration.

import { createHmac } from 'node:crypto';
import type { Configuration, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import { exportJWK } from 'jose';
import { z } from 'zod';
import type { TokenIssuer } from '../auth/issue.js';
import type { SigningKey } from '../auth/signing.js';
import { isScope, SCOPES, type Scope } from '../tenancy/scopes.js';
import type { Config } from '../config/index.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewayState } from '../gateway-state.js';
import { stateKeys } from '../state/keys.js';
import { stateAdapterFactory } from './adapter.js';
import { metadataAddressRefusal, metadataFetch } from './metadata-fetch.js';
import { messagePage } from './pages.js';
import { isAllowedRedirect } from './redirects.js';

/** The provider's endpoints, under the gateway's own `/oauth/` paths. `/oauth/token` stays the refresh endpoint of CLI-issued tokens. */
export const OAUTH_ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/exchange',
  registration: '/oauth/register',
  jwks: '/oauth/jwks',
} as const;

export const INTERACTION_PATH = '/oauth/interaction';

/** What an approved sign-in grants, kept from the approval until its code is exchanged. */
export const SignInGrantSchema = z.object({
  tenant: z.string(),
  device: z.string(),
  scopes: z.array(z.enum(['read', 'write', 'admin'] satisfies Scope[])),
  graphs: z.array(z.string()).optional(),
  /** The client's name as the user saw it, for the audit trail. */
  client: z.string(),
});

export type SignInGrant = z.infer<typeof SignInGrantSchema>;

/** The kind STATE_RECORD_INVALID names for a stored sign-in grant. */
const SIGN_IN_GRANT = 'OAuth sign-in grant';

/** How long an approved sign-in's facts are kept for its code exchange (a code lives 60 s). */
export const SIGN_IN_GRANT_TTL_MS = 10 * 60 * 1000;

export interface OAuthServerDeps {
  /** The gateway's external base URL: the issuer identifier. */
  baseUrl: string;
  config: Config['oauth'];
  trustProxy: boolean;
  state: GatewayState;
  issuer: TokenIssuer;
  signingKey: SigningKey;
  logger: Logger;
}

export interface OAuthServer {
  provider: Provider;
  errors: OidcModule['errors'];
  /** `<base>/mcp`: the one resource tokens are issued for. */
  resource: string;
  /** The key the interaction pages sign their CSRF tokens with. */
  formKey: Buffer;
}

/** A key for one purpose, derived from the signing key, so every instance with the same key agrees without more configuration. */
function derivedKey(signingKey: SigningKey, purpose: string): Buffer {
  const secret = signingKey.privateKey.export({ format: 'der', type: 'pkcs8' });
  return createHmac('sha256', secret).update(`falkordb-mcp-gateway oauth ${purpose}`).digest();
}

function clientName(client: { clientName?: string | undefined; clientId: string } | undefined): string {
  return client?.clientName ?? client?.clientId ?? 'an unknown client';
}

type OidcModule = typeof import('oidc-provider');

/**
 * oidc-provider, loaded when the first OAuth request comes (a gateway nobody signs in to
 * never loads it). Its start-up notices (it prefers Node.js 22) go to the log at debug
 * level instead of the console.
 */
async function loadOidcProvider(logger: Logger): Promise<OidcModule> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (text.startsWith('oidc-provider')) logger.debug({ notice: text }, 'oidc-provider notice');
    else warn(...args);
  };
  try {
    return await import('oidc-provider');
  } finally {
    console.warn = warn;
  }
}

function checkRedirects(errors: OidcModule['errors'], metadata: Record<string, unknown>, extra: readonly string[]): void {
  const uris = metadata['redirect_uris'];
  const list = Array.isArray(uris) ? uris : [];
  const refused = list.find((uri) => typeof uri !== 'string' || !isAllowedRedirect(uri, extra));
  if (refused !== undefined) {
    const error = new errors.InvalidRedirectUri();
    error.error_description = `redirect_uri ${JSON.stringify(String(refused).slice(0, 200))} is not allowed here; this gateway takes Claude's and ChatGPT's connector callbacks, loopback addresses, and what its operator lists in OAUTH_REDIRECT_URIS`;
    throw error;
  }
}

export async function createOAuthServer(deps: OAuthServerDeps): Promise<OAuthServer> {
  const { baseUrl, config, state, issuer, logger } = deps;
  const { default: Provider, errors, interactionPolicy } = await loadOidcProvider(logger);
  const resource = `${baseUrl}/mcp`;
  const scope = SCOPES.join(' ');
  const signingJwk = { ...(await exportJWK(deps.signingKey.privateKey)), kid: deps.signingKey.kid, alg: deps.signingKey.alg, use: 'sig' };

  // Every authorization asks for an enrolment code, even in a browser that signed in before:
  // a session must never hand a second client the first one's grant.
  const policy = interactionPolicy.base();
  // A client may ask for more than its enrolment code grants (most ask for every scope the
  // metadata lists): it gets what the code grants, rather than being sent back to sign in again.
  const consent = policy.get('consent');
  consent?.checks.remove('op_scopes_missing');
  consent?.checks.remove('rs_scopes_missing');
  const login = policy.get('login');
  login?.checks.add(
    new interactionPolicy.Check('enrolment_code', 'every sign-in needs an enrolment code', (ctx) => (ctx.oidc.result?.['login'] === undefined ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT)),
  );

  const configuration: Configuration = {
    adapter: stateAdapterFactory(state.store),
    clients: [],
    findAccount: async (_ctx, id) => {
      const grant = await state.store.getParsed(stateKeys.oauthAccount(id), SIGN_IN_GRANT, SignInGrantSchema);
      if (grant === undefined) return undefined;
      return { accountId: id, claims: () => ({ sub: id }) };
    },
    jwks: { keys: [signingJwk as never] },
    cookies: {
      keys: [derivedKey(deps.signingKey, 'cookies').toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    routes: OAUTH_ROUTES,
    scopes: [...SCOPES],
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: deps.signingKey.alg as never,
    },
    enabledJWA: { idTokenSigningAlgValues: [deps.signingKey.alg] as never },
    extraClientMetadata: {
      // Not metadata a client sends: the hook every registration, metadata document and stored client passes through.
      properties: ['gateway_redirect_policy'],
      validator: (_ctx, key, _value, metadata) => {
        if (key === 'gateway_redirect_policy') checkRedirects(errors, metadata, config.redirectUris);
      },
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      revocation: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      introspection: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      registration: { enabled: config.dynamicRegistration, initialAccessToken: false, issueRegistrationAccessToken: false },
      clientIdMetadataDocument: { enabled: config.clientMetadataDocuments, ack: 'draft-02' } as never,
      resourceIndicators: {
        enabled: true,
        // MCP clients must name the resource (RFC 8707); one that does not is told which to name.
        defaultResource: (_ctx, _client, oneOf) => {
          if (oneOf !== undefined) return oneOf;
          throw new errors.InvalidTarget(`the resource parameter is missing; ask for resource=${resource}`);
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`this authorization server issues tokens for ${resource} only`);
          // Opaque and short: it is never handed out (see mintGatewayTokens).
          return { scope, audience: resource, accessTokenFormat: 'opaque', accessTokenTTL: 60 };
        },
      },
    },
    issueRefreshToken: () => false,
    interactions: {
      policy,
      url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
    },
    ttl: {
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 600,
      Grant: 600,
      AccessToken: 60,
    },
    // A request the provider cannot send back to the client (unknown client, redirect URI not registered): a page of ours.
    renderError: (ctx, out, error) => {
      // A metadata document on a private address is the operator's to allow, not the user's to retry.
      const privateDocument = metadataAddressRefusal(error);
      if (privateDocument !== undefined) logger.warn({ host: privateDocument.host }, 'a client ID metadata document on a loopback or private address was refused (OAUTH_METADATA_PRIVATE_ADDRESSES is false)');
      const page = messagePage({
        status: ctx.status >= 400 ? ctx.status : 400,
        title: 'This sign-in cannot go on',
        message:
          privateDocument?.message ??
          `${out['error_description'] ?? out['error'] ?? 'The request is not valid.'} Start again from the app you are connecting; if it keeps happening, tell the person who runs the gateway.`,
      });
      ctx.status = page.status;
      ctx.set(page.headers);
      ctx.body = page.html;
    },
  };
  configuration.fetch = metadataFetch(config.metadataPrivateAddresses);

  const provider = new Provider(baseUrl, configuration);
  provider.proxy = deps.trustProxy;

  // The refresh grant for OAuth clients: the gateway's own rotation and reuse detection, as on /oauth/token.
  provider.registerGrantType(
    'refresh_token',
    async (ctx) => {
      const params = ctx.oidc.params as { refresh_token?: string; scope?: string };
      if (typeof params.refresh_token !== 'string' || params.refresh_token === '') throw new errors.InvalidRequest('the parameter refresh_token is missing');
      const client = ctx.oidc.client;
      if (client === undefined) throw new errors.InvalidClient('client authentication failed');
      try {
        const issued = await issuer.refresh(params.refresh_token, params.scope, `oauth:${clientName(client)}`, { client: client.clientId });
        ctx.body = tokenResponse(issued);
      } catch (error) {
        if (isGatewayError(error) && error.code === 'GRANT_INVALID') {
          const refusal = error.details.oauthError === 'invalid_scope' ? new errors.InvalidScope(error.message, params.scope ?? '') : new errors.InvalidGrant();
          // The gateway's own wording (why, and what to do) as the description the client shows.
          refusal.error_description = error.message;
          throw refusal;
        }
        throw error;
      }
    },
    ['refresh_token', 'scope'],
  );

  provider.use(async (koa, next) => {
    await next();
    const ctx = koa as KoaContextWithOIDC;
    const params = ctx.oidc?.params as { grant_type?: string; code?: string } | undefined;
    if (ctx.oidc?.route !== 'token' || params?.grant_type !== 'authorization_code' || typeof params.code !== 'string') return;
    if (ctx.status === 200) await mintGatewayTokens(ctx, deps, resource, params.code);
    else await revokeReplayed(deps, params.code);
  });

  provider.on('server_error', (_ctx, error) => logger.error({ err: { message: error.message, stack: error.stack } }, 'the OAuth authorization server failed a request'));

  return { provider, errors, resource, formKey: derivedKey(deps.signingKey, 'forms') };
}

function tokenResponse(issued: { accessToken: string; expiresIn: number; refreshToken?: string; scopes: readonly string[] }): Record<string, unknown> {
  return {
    access_token: issued.accessToken,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken }),
    scope: issued.scopes.join(' '),
  };
}

/**
 * After the provider has checked the code, its PKCE verifier, redirect URI, client and
 * resource: the answer becomes the gateway's own tokens for the device the sign-in approved.
 * A code is exchanged once, even when two exchanges race past the provider's own check.
 */
/** The marker of a code's exchange: set once, then holding the refresh family the exchange started. */
function exchangeMarker(code: string): string {
  return stateKeys.oauthConsumed('Exchange', createHmac('sha256', 'authorization code').update(code).digest('base64url'));
}

/**
 * A code presented again after its exchange may be a stolen copy (RFC 6749 §4.1.2): the
 * tokens its first exchange gave are revoked, so neither holder keeps them.
 */
async function revokeReplayed(deps: OAuthServerDeps, code: string): Promise<void> {
  const family = await deps.state.store.get(exchangeMarker(code));
  if (family === undefined || family === '1') return;
  const revoked = await deps.state.refresh.revokeFamily(family, 'authorization code presented again');
  deps.logger.warn({ revokedAccessTokens: revoked }, 'an OAuth authorization code was presented again after its exchange; the tokens it gave were revoked');
}

async function mintGatewayTokens(ctx: KoaContextWithOIDC, deps: OAuthServerDeps, resource: string, codeValue: string): Promise<void> {
  const code = ctx.oidc.entities.AuthorizationCode;
  const providerToken = ctx.oidc.entities.AccessToken;
  await providerToken?.destroy();
  const refuse = (description: string) => {
    ctx.status = 400;
    ctx.body = { error: 'invalid_grant', error_description: description };
  };
  if (code === undefined) return refuse('the authorization code could not be read back; start the sign-in again');
  const marker = exchangeMarker(codeValue);
  const keepUntil = Date.now() + SIGN_IN_GRANT_TTL_MS;
  if (!(await deps.state.store.set(marker, '1', keepUntil, true))) {
    await revokeReplayed(deps, codeValue);
    return refuse('the authorization code was already exchanged');
  }
  const grant = code.accountId === undefined ? undefined : await deps.state.store.getParsed(stateKeys.oauthAccount(code.accountId), SIGN_IN_GRANT, SignInGrantSchema);
  if (grant === undefined) return refuse('the sign-in expired before its code was exchanged; start the sign-in again');
  const asked = (providerToken?.scope ?? '').split(' ').filter(isScope);
  const scopes = asked.length > 0 ? grant.scopes.filter((s) => asked.includes(s)) : grant.scopes;
  if (scopes.length === 0) return refuse(`the sign-in grants ${grant.scopes.join(' ')}, none of which the client asked for`);
  try {
    const issued = await deps.issuer.issue({
      tenant: grant.tenant,
      device: grant.device,
      scopes,
      ...(grant.graphs === undefined ? {} : { graphs: grant.graphs }),
      withRefresh: true,
      audience: resource,
      ...(ctx.oidc.client === undefined ? {} : { client: ctx.oidc.client.clientId }),
      actor: `oauth:${grant.client}`,
    });
    const family = issued.refreshToken === undefined ? undefined : (await deps.state.refresh.peek(issued.refreshToken))?.record.family;
    if (family !== undefined) await deps.state.store.set(marker, family, keepUntil);
    ctx.body = tokenResponse(issued);
  } catch (error) {
    if (error instanceof GatewayError) return refuse(error.message);
    throw error;
  }
}
