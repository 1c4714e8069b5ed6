// Sign-in at an upstream OpenID provider (OAUTH_UPSTREAM_ISSUER), as a step
// of the gateway's own authorization: the sign-in page sends the browser
// there with PKCE, a state and a nonce; the provider sends it back to
// /oauth/upstream/callback, which returns it to the interaction it came from
// (whose cookie only that browser holds); there the code is exchanged and the
// ID token checked (signature, issuer, audience, expiry, nonce) by
// openid-client, the certified relying-party library by oidc-provider's
// author. The verified claims then meet OAUTH_UPSTREAM_TENANTS.

import * as client from 'openid-client';
import { z } from 'zod';
import type { UpstreamOAuthConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { StateStore } from '../state/store.js';
import { stateKeys } from '../state/keys.js';
import { INTERACTION_PATH } from './provider.js';
import type { UpstreamClaims } from '../tenancy/upstream-rules.js';

/** Where the upstream provider sends the browser back: the redirect URI to register there. */
export const UPSTREAM_CALLBACK_PATH = '/oauth/upstream/callback';

/** How long a person may take at the upstream provider (the interaction itself lives 10 minutes). */
const START_TTL_MS = 10 * 60 * 1000;
/** How long discovery of the provider is trusted before it is fetched again. */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const DISCOVERY_TIMEOUT_SEC = 10;

/** A sign-in sent to the provider, kept until its answer comes back: the interaction and the PKCE verifier and nonce. */
const StartRecordSchema = z.object({
  uid: z.string(),
  verifier: z.string(),
  nonce: z.string(),
});

type StartRecord = z.infer<typeof StartRecordSchema>;

/** The kind STATE_RECORD_INVALID names for a stored start. */
const START = 'upstream sign-in start';

/** Why an upstream sign-in did not give claims, worded for the person in the browser. */
export class UpstreamRefusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

export interface UpstreamSignIn {
  /** What the sign-in button calls the provider. */
  readonly name: string;
  /** Where to send the browser for interaction `uid`. */
  start(uid: string): Promise<URL>;
  /** The path back into the interaction that sent the browser out with this `state`, with the provider's answer; undefined for a state that is unknown or spent. */
  returnPath(query: URLSearchParams): Promise<string | undefined>;
  /** Checks the provider's answer to interaction `uid` and gives the ID token's verified claims; throws UpstreamRefusal. */
  finish(uid: string, query: URLSearchParams): Promise<UpstreamClaims>;
}

export interface UpstreamDeps {
  config: UpstreamOAuthConfig;
  /** The gateway's external base URL. */
  baseUrl: string;
  store: StateStore;
  logger: Logger;
}

export function createUpstreamSignIn(deps: UpstreamDeps): UpstreamSignIn {
  const { config, store, logger } = deps;
  const redirectUri = `${deps.baseUrl}${UPSTREAM_CALLBACK_PATH}`;
  const insecure = new URL(config.issuer).protocol === 'http:';
  let discovered: { at: number; value: Promise<client.Configuration> } | undefined;

  function configuration(): Promise<client.Configuration> {
    if (discovered === undefined || Date.now() - discovered.at > DISCOVERY_TTL_MS) {
      const auth = config.clientSecret === undefined ? client.None() : client.ClientSecretBasic(config.clientSecret);
      const value = client.discovery(new URL(config.issuer), config.clientId, undefined, auth, {
        timeout: DISCOVERY_TIMEOUT_SEC,
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
      const entry = { at: Date.now(), value };
      discovered = entry;
      // A failed discovery is tried again by the next sign-in rather than remembered.
      value.catch(() => {
        if (discovered === entry) discovered = undefined;
      });
    }
    return discovered.value;
  }

  /** The provider's configuration, or an UpstreamRefusal (logged) when it cannot be discovered. */
  async function reachableConfiguration(): Promise<client.Configuration> {
    try {
      return await configuration();
    } catch (error) {
      logger.warn({ issuer: config.issuer, err: error instanceof Error ? error.message : String(error) }, 'the upstream OpenID provider could not be reached');
      throw new UpstreamRefusal(502, `${config.name} cannot be reached`, `The gateway could not reach ${config.name} to sign you in. Try again in a minute; if it keeps happening, tell the person who runs the gateway.`);
    }
  }

  /**
   * Claims the provider gives only at its userinfo endpoint (many put email and groups there
   * rather than in the ID token, as OpenID Connect Core §5.4 says for the code flow). The ID
   * token's own claims win over these; a failure leaves just the ID token's, and is logged.
   */
  async function userinfo(server: client.Configuration, accessToken: string, subject: string): Promise<UpstreamClaims> {
    if (server.serverMetadata().userinfo_endpoint === undefined) return {};
    try {
      return await client.fetchUserInfo(server, accessToken, subject);
    } catch (error) {
      logger.warn({ issuer: config.issuer, err: error instanceof Error ? error.message : String(error) }, 'the upstream OpenID provider\'s userinfo could not be read; the sign-in goes on with the ID token\'s claims alone');
      return {};
    }
  }

  return {
    name: config.name,

    async start(uid) {
      const server = await reachableConfiguration();
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      await store.setJson(stateKeys.oauthUpstream('start', state), { uid, verifier, nonce } satisfies StartRecord, Date.now() + START_TTL_MS);
      return client.buildAuthorizationUrl(server, {
        redirect_uri: redirectUri,
        scope: config.scope,
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
    },

    async returnPath(query) {
      const state = query.get('state');
      if (state === null || state === '') return undefined;
      const record = await store.getParsed(stateKeys.oauthUpstream('start', state), START, StartRecordSchema);
      return record === undefined ? undefined : `${INTERACTION_PATH}/${encodeURIComponent(record.uid)}/upstream?${query.toString()}`;
    },

    async finish(uid, query) {
      const state = query.get('state') ?? '';
      const record = state === '' ? undefined : await store.takeParsed(stateKeys.oauthUpstream('start', state), START, StartRecordSchema);
      if (record === undefined || record.uid !== uid) {
        throw new UpstreamRefusal(400, 'This sign-in has expired', `The answer from ${config.name} does not belong to this sign-in, or was already used. Start again from the app you are connecting.`);
      }
      const error = query.get('error');
      if (error !== null) {
        const refused = error === 'access_denied';
        throw new UpstreamRefusal(
          refused ? 403 : 400,
          refused ? 'Sign-in not completed' : `${config.name} did not sign you in`,
          refused
            ? `You did not sign in at ${config.name}, so nothing was granted. Start again from the app you are connecting.`
            : `${config.name} answered: ${(query.get('error_description') ?? error).slice(0, 300)}. Start again from the app you are connecting; if it keeps happening, tell the person who runs the gateway.`,
        );
      }
      const server = await reachableConfiguration();
      const current = new URL(redirectUri);
      current.search = query.toString();
      try {
        const tokens = await client.authorizationCodeGrant(server, current, { pkceCodeVerifier: record.verifier, expectedState: state, expectedNonce: record.nonce, idTokenExpected: true });
        const claims = tokens.claims();
        if (claims === undefined) throw new Error('no ID token in the token response');
        return { ...(await userinfo(server, tokens.access_token, claims.sub)), ...claims };
      } catch (caught) {
        const reason = caught instanceof Error ? caught.message : String(caught);
        logger.warn({ issuer: config.issuer, err: reason }, 'a sign-in at the upstream OpenID provider could not be verified');
        throw new UpstreamRefusal(502, `The sign-in at ${config.name} could not be checked`, `${config.name}'s answer could not be verified, so nothing was granted. Start again from the app you are connecting; if it keeps happening, tell the person who runs the gateway (the gateway's log says why).`);
      }
    },
  };
}
