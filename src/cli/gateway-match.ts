// Does this command's environment match the running gateways'? What each running
// instance announced (src/auth/gateways.ts) against what this environment would
// sign and check, so tokens are never minted that the gateway refuses.

import { loadOwnKeys } from '../auth/own-keys.js';
import { publicBaseUrl } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { liveGateways, presenceFacts, type GatewayPresence, type NewGatewayPresence } from '../auth/gateways.js';
import { GATEWAY_VERSION } from '../version.js';
import type { CliContext } from './context.js';

export interface Difference {
  what: string;
  /** The variable to set here to match. */
  variable: string;
  here: string;
  gateway: string;
  /** Tokens signed here would be refused by that gateway. */
  refusesTokens: boolean;
}

function kidLabel(kid: string | undefined): string {
  return kid === undefined ? 'none' : `kid ${kid}`;
}

function kidsLabel(kids: readonly string[]): string {
  return kids.length === 0 ? 'none' : [...kids].sort().join(', ');
}

/** Every way `here` differs from one running gateway, the ones that make it refuse tokens first. */
export function differences(here: NewGatewayPresence, gateway: GatewayPresence): Difference[] {
  const found: Difference[] = [];
  const signing = here.signingKid;
  if (signing === undefined || !gateway.acceptedKids.includes(signing)) {
    // With AUTH_JWKS_URL the gateway may know more keys than it can tell; a key it announced is certain, another is not.
    if (!(signing !== undefined && gateway.jwks)) {
      found.push({
        what: 'signing key',
        variable: 'AUTH_SIGNING_KEY_FILE',
        here: signing === undefined ? 'none (AUTH_SIGNING_KEY_FILE is not set, and there is no dev key)' : `${kidLabel(signing)}${here.devMode ? ' (the dev key; AUTH_SIGNING_KEY_FILE is not set)' : ''}`,
        gateway: `signs with ${kidLabel(gateway.signingKid)}${gateway.devMode ? ' (its dev key)' : ''}; accepts ${kidsLabel(gateway.acceptedKids)}`,
        refusesTokens: true,
      });
    }
  }
  const same = (what: string, variable: string, a: string, b: string, refusesTokens: boolean) => {
    if (a !== b) found.push({ what, variable, here: JSON.stringify(a), gateway: JSON.stringify(b), refusesTokens });
  };
  same('issuer', 'AUTH_ISSUER', here.issuer, gateway.issuer, true);
  same('audience', 'AUTH_AUDIENCE', here.audience, gateway.audience, true);
  same('tenant claim', 'AUTH_TENANT_CLAIM', here.tenantClaim, gateway.tenantClaim, true);
  same('registration required', 'TENANTS_REQUIRE_REGISTRATION', String(here.requireRegistration), String(gateway.requireRegistration), false);
  // What `token inspect` here verifies with, against what the gateway does (once the signing key itself matches).
  if (found.length === 0 || found[0]?.what !== 'signing key') {
    same('keys verified', 'AUTH_PREVIOUS_KEYS_DIR (or AUTH_PUBLIC_KEY_FILE)', kidsLabel(here.acceptedKids), kidsLabel(gateway.acceptedKids), false);
  }
  same('identity provider (JWKS)', 'AUTH_JWKS_URL', here.jwks ? 'set' : 'not set', gateway.jwks ? 'set' : 'not set', false);
  return found;
}

/** What this environment would announce if it ran `serve`: the same facts, built the same way. */
export async function environmentFacts(ctx: CliContext): Promise<NewGatewayPresence> {
  const keys = await loadOwnKeys(ctx.config, { createDevKey: false });
  return presenceFacts(ctx.config, keys, { url: publicBaseUrl(ctx.config, ctx.config.http.port), database: ctx.database.description, version: GATEWAY_VERSION });
}

export function describeGateway(g: GatewayPresence): string {
  return `the gateway at ${g.url} (pid ${g.pid} on ${g.host})`;
}

/**
 * Refuses (GATEWAY_MISMATCH, exit 1) when a running gateway would refuse tokens signed
 * with `signingKid` here. With none running there is nothing to compare against.
 */
export async function assertGatewaysAccept(ctx: CliContext, here: NewGatewayPresence): Promise<void> {
  for (const gateway of await liveGateways(ctx.state.store)) {
    const refusing = differences(here, gateway).filter((d) => d.refusesTokens);
    const first = refusing[0];
    if (first === undefined) continue;
    const fix =
      first.variable === 'AUTH_SIGNING_KEY_FILE' && ctx.config.auth.signingKeyFile === undefined
        ? 'AUTH_SIGNING_KEY_FILE is not set here; set it to the key file the gateway signs with'
        : `set ${first.variable} here as the gateway has it`;
    throw new GatewayError(
      'GATEWAY_MISMATCH',
      `Nothing was issued: ${describeGateway(gateway)} would refuse tokens signed here (${refusing.map((d) => d.what).join(', ')} differ; ${first.what} here: ${first.here}; gateway: ${first.gateway}). ${fix[0]!.toUpperCase()}${fix.slice(1)}, or run \`falkordb-mcp-gateway doctor\` to see every difference.`,
      { variable: first.variable },
    );
  }
}
