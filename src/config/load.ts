// Parses the environment once, into one typed, frozen Config: each variable
// through its parser (schema.ts), then the checks across variables.

import { hostname } from 'node:os';
import path from 'node:path';
import { GatewayError } from '../errors.js';
import { checkCluster, checkTopology, checkUpstream, devModeHostMessage } from './checks.js';
import { isLoopbackHost } from './hosts.js';
import { configError, given, readRawValue, type Env } from './raw-values.js';
import { SCHEMA, type Values } from './schema.js';
import { readTargets, sentinelConfig } from './targets.js';
import { tracingConfig } from './tracing.js';
import type { Config } from './types.js';
import { CONFIG_VARIABLES, isSecretVariable } from './variables.js';

/** Parses the environment; throws a GatewayError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  // Empty means unset for every other variable; here it would turn a dedicated instance into one that serves every tenant.
  if (env.SERVE_TENANTS !== undefined && env.SERVE_TENANTS.trim() === '') {
    throw new GatewayError('CONFIG_INVALID', 'SERVE_TENANTS is set but empty, which would make this instance serve every tenant; list the tenants it serves (for example SERVE_TENANTS=acme,premium-*), or unset the variable on an instance meant for every tenant.', { variable: 'SERVE_TENANTS' });
  }
  const values: Record<string, unknown> = {};
  for (const variable of CONFIG_VARIABLES) {
    const raw = readRawValue(variable, env);
    const input = raw.text ?? variable.default;
    const parsed = SCHEMA[variable.name].safeParse(input);
    if (!parsed.success) {
      const problem = parsed.error.issues[0]?.message ?? 'is not valid';
      throw configError(raw.variable, raw.text, input === undefined ? 'is required' : problem, raw.example, isSecretVariable(variable));
    }
    values[variable.name] = parsed.data;
  }
  const v = values as Values;

  checkCluster(v, env);

  const hasVerifier =
    v.AUTH_JWT_SECRET !== undefined || v.AUTH_PUBLIC_KEY_FILE !== undefined || v.AUTH_JWKS_URL !== undefined || v.AUTH_SIGNING_KEY_FILE !== undefined;
  const loopback = isLoopbackHost(v.HOST);
  if (!hasVerifier && !loopback) {
    throw new GatewayError('CONFIG_INVALID', devModeHostMessage(v.HOST), { variable: 'HOST' });
  }

  if ((v.TLS_CERT_FILE === undefined) !== (v.TLS_KEY_FILE === undefined)) {
    const missing = v.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    const example = missing === 'TLS_CERT_FILE' ? '/etc/falkordb-mcp-gateway/tls.crt' : '/etc/falkordb-mcp-gateway/tls.key';
    throw configError(missing, undefined, 'is required when the other half of the TLS pair (TLS_CERT_FILE, TLS_KEY_FILE) is set', example, false);
  }

  checkTopology(v);

  if (v.TENANT_ISOLATION === 'acl' && v.ACL_USER_SECRET === undefined) {
    throw configError('ACL_USER_SECRET', undefined, 'is required with TENANT_ISOLATION=acl (the tenants\' database passwords derive from it; give every instance the same one)', 'a-random-string-of-at-least-32-bytes', true);
  }

  checkUpstream(v, !hasVerifier && loopback);
  const tracing = tracingConfig(v);
  const targets = readTargets(env, v);

  const config: Config = {
    falkordb: {
      url: v.FALKORDB_URL,
      clusterUrls: v.FALKORDB_CLUSTER_URLS,
      dataDir: path.resolve(v.FALKORDB_DATA_DIR),
      serverBin: v.FALKORDB_SERVER_BIN,
      connectTimeoutMs: v.FALKORDB_CONNECT_TIMEOUT_MS,
      replicaUrls: v.FALKORDB_REPLICA_URLS ?? [],
      readAfterWriteMs: v.FALKORDB_READ_AFTER_WRITE_MS,
      sentinel: sentinelConfig(v, v),
      limitsMode: v.DATABASE_LIMITS,
    },
    http: { host: v.HOST, port: v.PORT, publicUrl: v.PUBLIC_URL?.replace(/\/+$/, '') },
    logLevel: v.LOG_LEVEL,
    auth: {
      jwtSecret: v.AUTH_JWT_SECRET,
      publicKeyFile: v.AUTH_PUBLIC_KEY_FILE,
      jwksUrl: v.AUTH_JWKS_URL,
      issuer: v.AUTH_ISSUER,
      audience: v.AUTH_AUDIENCE,
      tenantClaim: v.AUTH_TENANT_CLAIM,
      signingKeyFile: v.AUTH_SIGNING_KEY_FILE,
      previousKeysDir: v.AUTH_PREVIOUS_KEYS_DIR === undefined ? undefined : path.resolve(v.AUTH_PREVIOUS_KEYS_DIR),
      clockToleranceSec: v.AUTH_CLOCK_TOLERANCE,
      allowQueryToken: v.AUTH_ALLOW_QUERY_TOKEN,
      headerName: v.AUTH_HEADER_NAME,
      accessTokenTtlSec: v.ACCESS_TOKEN_TTL,
      refreshTokenTtlSec: v.REFRESH_TOKEN_TTL,
      devMode: !hasVerifier && loopback,
    },
    oauth: {
      server: v.OAUTH_SERVER,
      redirectUris: v.OAUTH_REDIRECT_URIS ?? [],
      dynamicRegistration: v.OAUTH_DYNAMIC_REGISTRATION,
      clientMetadataDocuments: v.OAUTH_CLIENT_METADATA_DOCUMENTS,
      metadataPrivateAddresses: v.OAUTH_METADATA_PRIVATE_ADDRESSES,
      codeAttempts: v.ENROLMENT_CODE_ATTEMPTS,
      upstream:
        v.OAUTH_UPSTREAM_ISSUER === undefined || v.OAUTH_UPSTREAM_CLIENT_ID === undefined || v.OAUTH_UPSTREAM_TENANTS === undefined
          ? undefined
          : {
              issuer: v.OAUTH_UPSTREAM_ISSUER,
              clientId: v.OAUTH_UPSTREAM_CLIENT_ID,
              clientSecret: v.OAUTH_UPSTREAM_CLIENT_SECRET,
              rules: v.OAUTH_UPSTREAM_TENANTS,
              groupsClaim: v.OAUTH_UPSTREAM_GROUPS_CLAIM,
              scope: v.OAUTH_UPSTREAM_SCOPE.split(/\s+/).join(' '),
              name: v.OAUTH_UPSTREAM_NAME ?? new URL(v.OAUTH_UPSTREAM_ISSUER).hostname,
            },
    },
    tenants: { requireRegistration: v.TENANTS_REQUIRE_REGISTRATION },
    targets,
    instance: { name: v.INSTANCE_NAME ?? hostname(), serveTenants: v.SERVE_TENANTS },
    isolation: { mode: v.TENANT_ISOLATION, aclUserSecret: v.ACL_USER_SECRET, aclPoolMax: v.ACL_POOL_MAX },
    query: {
      timeoutMs: v.QUERY_TIMEOUT_MS,
      memoryMaxBytes: v.QUERY_MEMORY_MAX_BYTES,
      maxRows: v.MAX_ROWS,
      maxResultBytes: v.MAX_RESULT_BYTES,
      maxReplyBytes: v.MAX_REPLY_BYTES,
      maxQueryLength: v.MAX_QUERY_LENGTH,
      allowLoadCsv: v.ALLOW_LOAD_CSV,
      exactFloats: v.EXACT_FLOATS,
      maxParametersBytes: v.MAX_PARAMETERS_BYTES,
    },
    cache: { schemaTtlMs: v.SCHEMA_CACHE_TTL_MS, queryTtlMs: v.QUERY_CACHE_TTL_MS, queryMaxBytes: v.QUERY_CACHE_MAX_BYTES },
    limits: {
      maxBodyBytes: v.MAX_BODY_BYTES,
      ratePerMinute: v.RATE_LIMIT_PER_MINUTE,
      rateBurst: v.RATE_LIMIT_BURST,
      ratePlans: v.RATE_LIMIT_PLANS ?? {},
      maxConcurrentPerTenant: v.MAX_CONCURRENT_QUERIES_PER_TENANT,
      maxConcurrent: v.MAX_CONCURRENT_QUERIES,
      queueTimeoutMs: v.QUERY_QUEUE_TIMEOUT_MS,
      tokenRequestsPerMinute: v.TOKEN_REQUESTS_PER_MINUTE,
      storageQuotaBytes: v.TENANT_STORAGE_QUOTA_BYTES,
      storageCheckMs: v.TENANT_STORAGE_CHECK_MS,
    },
    sse: { maxSessionsPerDevice: v.SSE_MAX_SESSIONS_PER_DEVICE, maxSessionsPerTenant: v.SSE_MAX_SESSIONS_PER_TENANT, idleTimeoutMs: v.SSE_IDLE_TIMEOUT_MS },
    network: {
      allowedIps: v.ALLOWED_IPS ?? [],
      trustProxy: v.TRUST_PROXY,
      tlsCertFile: v.TLS_CERT_FILE === undefined ? undefined : path.resolve(v.TLS_CERT_FILE),
      tlsKeyFile: v.TLS_KEY_FILE === undefined ? undefined : path.resolve(v.TLS_KEY_FILE),
      allowedOrigins: (v.ALLOWED_ORIGINS ?? []).map((o) => o.replace(/\/$/, '')),
    },
    audit: {
      queryText: v.AUDIT_QUERY_TEXT,
      logFile: v.AUDIT_LOG_FILE === undefined ? undefined : path.resolve(v.AUDIT_LOG_FILE),
      streamMaxLen: v.AUDIT_STREAM_MAXLEN,
      refusalsPerMinute: v.AUDIT_REFUSALS_PER_MINUTE,
      bufferMax: v.AUDIT_BUFFER_MAX,
      instance: v.INSTANCE_NAME ?? hostname(),
    },
    refusals: { authFailuresPerMinute: v.AUTH_FAILURES_PER_MINUTE },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    metrics: { host: v.METRICS_HOST, port: v.METRICS_PORT, portExplicit: given(env['METRICS_PORT']) !== undefined, tenantLabels: v.METRICS_TENANT_LABELS },
    usage: { retentionDays: v.USAGE_RETENTION_DAYS },
    tracing,
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (inner !== null && typeof inner === 'object') deepFreeze(inner as object);
  }
  return Object.freeze(value);
}
