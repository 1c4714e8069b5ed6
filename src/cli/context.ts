// What the token and tenant commands work against: the same configuration,
// database and shared state as the server (FALKORDB_URL, or the embedded data
// dir, borrowing a running gateway's server or starting one briefly).

import { createAccessPolicy, type AccessPolicy } from '../auth/access-policy.js';
import { TokenIssuer } from '../auth/issue.js';
import { devSigningKeyPath, loadOwnKeys } from '../auth/own-keys.js';
import { createTenantKeyResolver } from '../auth/tenant-keys.js';
import { createTokenVerifier, type TokenVerifier } from '../auth/verify.js';
import { DEFAULT_TARGET, loadConfig, type Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Database } from '../falkordb/database.js';
import { GraphClient } from '../falkordb/graphs.js';
import { openDatabase, type OpenedDatabase } from '../falkordb/open.js';
import { createLogger, type Logger } from '../logger.js';
import { auditStreamKey } from '../observability/audit-stream.js';
import { stateKeys } from '../state/keys.js';
import { openGatewayState, type GatewayState } from '../gateway-state.js';
import { tenantKeyPrefix } from '../tenancy/keys.js';
import { TargetDatabases } from '../placement.js';
import { assertGatewaysAccept, environmentFacts } from './gateway-match.js';

export interface CliContext {
  config: Config;
  logger: Logger;
  /** The shared database: the gateway's own state, and the graphs of every tenant not placed elsewhere. */
  database: OpenedDatabase;
  state: GatewayState;
  /** Graph operations on the shared database. */
  graphs: GraphClient;
  /** The databases of DATABASE_TARGETS, opened when a command needs one. */
  targets: TargetDatabases;
  close(): Promise<void>;
}

/** Where a tenant's graphs are: its placement's database (`target` undefined: the shared one). */
export interface TenantDatabase {
  target: string | undefined;
  db: Database;
  graphs: GraphClient;
}

/** The database `target` names (undefined or `default`: the shared one), opened on first use. */
export async function databaseOf(ctx: CliContext, target: string | undefined): Promise<TenantDatabase> {
  if (target === undefined || target === DEFAULT_TARGET) return { target: undefined, db: ctx.database.db, graphs: ctx.graphs };
  const opened = await ctx.targets.open(target);
  return { target, db: opened.db, graphs: new GraphClient(opened.db) };
}

/** The database the tenant's record places its graphs on; the shared one for a tenant without a record. */
export async function tenantDatabase(ctx: CliContext, tenant: string): Promise<TenantDatabase> {
  return databaseOf(ctx, (await ctx.state.tenants.get(tenant))?.database);
}

/** Opens config, database and state; the caller must `close()`. */
export async function openCliContext(env: NodeJS.ProcessEnv): Promise<CliContext> {
  const config = loadConfig(env);
  // Commands print their results on stdout; only problems go to stderr.
  const logger = createLogger(env.LOG_LEVEL ?? 'warn', 2);
  // A one-off command leaves the server's limits to `serve`, so it works where they are unset.
  const database = await openDatabase(config, logger, { reuseRunning: true, limits: false });
  const targets = new TargetDatabases(config, logger, { limits: false });
  return {
    config,
    logger,
    database,
    state: openGatewayState(database.db, logger, config.audit),
    graphs: new GraphClient(database.db),
    targets,
    close: async () => {
      await targets.close();
      await database.close();
    },
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

/**
 * The issuer for commands that mint tokens. Refuses when the tokens would be refused:
 * dev mode here without a dev key a dev-mode gateway made, or a running gateway that
 * does not accept this environment's key, issuer, audience or tenant claim.
 */
export async function cliIssuer(ctx: CliContext): Promise<TokenIssuer> {
  const { config } = ctx;
  const { signingKey } = await loadOwnKeys(config, { createDevKey: false });
  if (signingKey === undefined && config.auth.devMode) {
    throw new GatewayError(
      'GATEWAY_MISMATCH',
      `Nothing was issued: AUTH_SIGNING_KEY_FILE is not set, and no gateway has run in dev mode on FALKORDB_DATA_DIR ${config.falkordb.dataDir} (there is no ${devSigningKeyPath(config)}), so no gateway would accept a token signed here. Set AUTH_SIGNING_KEY_FILE (and the other AUTH_* variables) as the gateway has them; for dev mode, start the gateway first (npm start). \`falkordb-mcp-gateway doctor\` compares this environment with the running gateway's.`,
      { variable: 'AUTH_SIGNING_KEY_FILE' },
    );
  }
  if (signingKey === undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      'This gateway has no signing key, so it cannot issue tokens: set AUTH_SIGNING_KEY_FILE (make one with `falkordb-mcp-gateway keys generate --out signing.pem`), or issue tokens from your identity provider.',
      { variable: 'AUTH_SIGNING_KEY_FILE' },
    );
  }
  await assertGatewaysAccept(ctx, await environmentFacts(ctx));
  return new TokenIssuer({ signingKey, state: ctx.state, auth: config.auth, requireRegistration: config.tenants.requireRegistration });
}

/** The verifier and policy the server would apply, for `token inspect`; nothing cached, nothing recorded. */
export async function cliVerifier(ctx: CliContext): Promise<{ verifier: TokenVerifier; policy: AccessPolicy }> {
  const { config, state } = ctx;
  const verifier = await createTokenVerifier({
    auth: config.auth,
    ownKeys: (await loadOwnKeys(config, { createDevKey: false })).verifying,
    tenantKeys: createTenantKeyResolver(state.tenants, { defaultIssuer: config.auth.issuer, cacheMs: 0 }),
    cacheSize: 0,
  });
  const policy = createAccessPolicy({ state, requireRegistration: config.tenants.requireRegistration, cacheMs: 0, recordUse: false });
  return { verifier, policy };
}

/**
 * Is this a tenant of this database, or a typo? Known: registered, or (where
 * registration is not required) it has graphs, tokens or refresh chains this
 * gateway issued, or audit events, e.g. a tenant of an identity provider.
 */
export async function tenantIsKnown(ctx: CliContext, tenant: string): Promise<boolean> {
  const { store, tenants } = ctx.state;
  if ((await tenants.get(tenant)) !== undefined) return true;
  for (const key of [stateKeys.tenantTokens(tenant), stateKeys.tenantFamilies(tenant), auditStreamKey(tenant)]) {
    if (await store.exists(key)) return true;
  }
  return (await (await tenantDatabase(ctx, tenant)).graphs.listKeys(tenantKeyPrefix(tenant))).length > 0;
}

/** TENANT_NOT_FOUND (exit 1) for a tenant this database knows nothing of; `force` names the flag that overrides it. */
export async function mustKnowTenant(ctx: CliContext, tenant: string, force?: string): Promise<void> {
  if (await tenantIsKnown(ctx, tenant)) return;
  throw new GatewayError(
    'TENANT_NOT_FOUND',
    `No tenant "${tenant}" is known here: it is not registered and has no graphs, tokens or audit events in this database, so nothing was done. See the registered tenants with \`falkordb-mcp-gateway tenant list\` (and every tenant with usage with \`tenant usage\`)${force === undefined ? '' : `; if "${tenant}" is right, add ${force}`}.`,
  );
}
