// What the token and tenant commands work against: the same configuration,
// database and shared state as the server (FALKORDB_URL, or the embedded data
// dir, borrowing a running gateway's server or starting one briefly).

import { createAccessPolicy, type AccessPolicy } from '../auth/access-policy.js';
import { TokenIssuer } from '../auth/issue.js';
import { loadOwnKeys } from '../auth/own-keys.js';
import { createTenantKeyResolver } from '../auth/tenant-keys.js';
import { createTokenVerifier, type TokenVerifier } from '../auth/verify.js';
import { loadConfig, type Config } from '../config.js';
import { GatewayError } from '../errors.js';
import { GraphClient } from '../falkordb/graphs.js';
import { openDatabase, type OpenedDatabase } from '../falkordb/open.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { openGatewayState, type GatewayState } from '../state/index.js';

export interface CliContext {
  config: Config;
  logger: Logger;
  database: OpenedDatabase;
  state: GatewayState;
  graphs: GraphClient;
  close(): Promise<void>;
}

/** Opens config, database and state; the caller must `close()`. */
export async function openCliContext(env: NodeJS.ProcessEnv): Promise<CliContext> {
  const config = loadConfig(env);
  // Commands print their results on stdout; only problems go to stderr.
  const logger = createLogger(env.LOG_LEVEL ?? 'warn', 2);
  const database = await openDatabase(config, logger, { reuseRunning: true });
  return {
    config,
    logger,
    database,
    state: openGatewayState(database.db, logger, config.audit),
    graphs: new GraphClient(database.db),
    close: () => database.close(),
  };
}

/** Runs `body` with an open context and always closes it. */
export async function withCliContext<T>(env: NodeJS.ProcessEnv, body: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openCliContext(env);
  try {
    return await body(ctx);
  } finally {
    await ctx.close();
  }
}

export async function cliIssuer(ctx: CliContext): Promise<TokenIssuer> {
  const { signingKey } = await loadOwnKeys(ctx.config);
  if (signingKey === undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      'This gateway has no signing key, so it cannot issue tokens: set AUTH_SIGNING_KEY_FILE (make one with `falkordb-mcp-gateway keys generate --out signing.pem`), or issue tokens from your identity provider.',
      { variable: 'AUTH_SIGNING_KEY_FILE' },
    );
  }
  return new TokenIssuer({ signingKey, state: ctx.state, auth: ctx.config.auth, requireRegistration: ctx.config.tenants.requireRegistration });
}

/** The verifier and policy the server would apply, for `token inspect`; nothing cached, nothing recorded. */
export async function cliVerifier(ctx: CliContext): Promise<{ verifier: TokenVerifier; policy: AccessPolicy }> {
  const { config, state } = ctx;
  const verifier = await createTokenVerifier({
    auth: config.auth,
    ownKeys: (await loadOwnKeys(config)).verifying,
    tenantKeys: createTenantKeyResolver(state.tenants, { defaultIssuer: config.auth.issuer, cacheMs: 0 }),
    cacheSize: 0,
  });
  const policy = createAccessPolicy({ state, requireRegistration: config.tenants.requireRegistration, cacheMs: 0, recordUse: false });
  return { verifier, policy };
}
