// Reads and validates the environment once, into one typed, frozen object.
// CONFIG_VARIABLES is the single table of variables and defaults; README's
// configuration table is generated from it.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { DURATION_FORMS, formatDuration, parseDuration } from './duration.js';
import { parseCidr } from './cidr.js';
import { GatewayError } from './errors.js';

export interface ConfigVariable {
  name: string;
  default: string | undefined;
  description: string;
  example: string;
  /** Never shown in messages; may also be given as a file through `NAME_FILE`. */
  secret?: boolean;
}

export const CONFIG_VARIABLES = [
  { name: 'FALKORDB_URL', default: undefined, description: 'FalkorDB to use: `redis://[user:pass@]host:port`, `rediss://…`, or a unix socket path. Unset: an embedded FalkorDB is started.', example: 'redis://:secret@db.internal:6379', secret: true },
  { name: 'FALKORDB_DATA_DIR', default: './.data', description: 'Data folder of the embedded FalkorDB (and the dev-mode signing key).', example: '/var/lib/falkordb-mcp-gateway' },
  { name: 'FALKORDB_SERVER_BIN', default: undefined, description: 'Server binary (Redis or Valkey ≥ 7.2) for the embedded FalkorDB; found automatically when unset.', example: '/usr/bin/valkey-server' },
  { name: 'FALKORDB_CONNECT_TIMEOUT_MS', default: '10000', description: 'How long start-up keeps retrying an unreachable FalkorDB before it gives up.', example: '30000' },
  { name: 'HOST', default: '127.0.0.1', description: 'Address the gateway listens on.', example: '0.0.0.0' },
  { name: 'PORT', default: '3003', description: 'Port the gateway listens on.', example: '8080' },
  { name: 'PUBLIC_URL', default: undefined, description: 'External base URL of the gateway (for OAuth metadata and printed client configs). Unset: `http://HOST:PORT` (`https://` with TLS_CERT_FILE).', example: 'https://graphs.example.com' },
  { name: 'LOG_LEVEL', default: 'info', description: 'Log level: fatal, error, warn, info, debug, trace or silent.', example: 'debug' },
  { name: 'AUTH_JWT_SECRET', default: undefined, description: 'HS256/384/512 shared secret, at least 32 bytes.', example: 'a-random-string-of-at-least-32-bytes', secret: true },
  { name: 'AUTH_PUBLIC_KEY_FILE', default: undefined, description: 'PEM public key (RS*, PS*, ES*, EdDSA) that verifies tokens.', example: '/run/secrets/idp.pub.pem' },
  { name: 'AUTH_JWKS_URL', default: undefined, description: 'JWKS endpoint of an identity provider; cached, refetched on an unknown `kid`.', example: 'https://idp.example.com/.well-known/jwks.json' },
  { name: 'AUTH_ISSUER', default: 'falkordb-mcp-gateway', description: 'Required `iss` claim.', example: 'https://idp.example.com/' },
  { name: 'AUTH_AUDIENCE', default: 'falkordb-mcp-gateway', description: 'Required `aud` claim (the token\'s audience must contain it).', example: 'https://graphs.example.com' },
  { name: 'AUTH_TENANT_CLAIM', default: 'sub', description: 'Claim that names the tenant.', example: 'org_id' },
  { name: 'AUTH_SIGNING_KEY_FILE', default: undefined, description: 'PEM private key the gateway signs its own tokens with (`keys generate` makes one). Dev mode: generated under the data folder.', example: '/run/secrets/gateway-signing.pem' },
  { name: 'AUTH_PREVIOUS_KEYS_DIR', default: undefined, description: 'Folder of `*.pem` files (private or public keys) the gateway signed with before; tokens they signed keep verifying until the file is removed.', example: '/etc/falkordb-mcp-gateway/previous-keys' },
  { name: 'AUTH_CLOCK_TOLERANCE', default: '30', description: 'Seconds of clock skew allowed for `exp`, `nbf` and `iat`.', example: '60' },
  { name: 'AUTH_ALLOW_QUERY_TOKEN', default: 'true', description: 'Accept `?token=` on the URL for clients that cannot set headers (never logged).', example: 'false' },
  { name: 'ACCESS_TOKEN_TTL', default: '1h', description: 'Lifetime of the access tokens the gateway issues: `90` (seconds), `30s`, `15m`, `1h`, `7d` or `2w`; at most `30d`.', example: '15m' },
  { name: 'REFRESH_TOKEN_TTL', default: '30d', description: 'Lifetime of the refresh tokens the gateway issues, in the same forms; at most `400d`.', example: '90d' },
  { name: 'TENANTS_REQUIRE_REGISTRATION', default: 'false', description: 'Refuse tokens for a tenant that is not in the tenant registry (the production setting).', example: 'true' },
  { name: 'QUERY_TIMEOUT_MS', default: '10000', description: 'Longest a query may run; a tool call\'s `timeoutMs` is capped by it.', example: '30000' },
  { name: 'MAX_ROWS', default: '10000', description: 'Most rows a query returns; beyond it the result says `truncated: true`.', example: '1000' },
  { name: 'MAX_QUERY_LENGTH', default: '100000', description: 'Longest query text, in characters.', example: '20000' },
  { name: 'ALLOW_LOAD_CSV', default: 'false', description: 'Allow Cypher `LOAD CSV` (reads files or URLs from the database server; off for tenants by default).', example: 'true' },
  { name: 'MAX_PARAMETERS_BYTES', default: '65536', description: 'Largest `parameters` object of a query, in bytes of JSON; refused before the database sees it.', example: '16384' },
  { name: 'MAX_BODY_BYTES', default: '1048576', description: 'Largest request body, in bytes; bigger bodies get 413.', example: '262144' },
  { name: 'RATE_LIMIT_PER_MINUTE', default: '600', description: 'Requests a tenant may make per minute, counted in the database server so all instances share one budget; `0` turns the limit off.', example: '120' },
  { name: 'RATE_LIMIT_BURST', default: '60', description: 'Extra requests a tenant may make in a minute beyond its rate, to absorb short spikes.', example: '20' },
  { name: 'RATE_LIMIT_PLANS', default: undefined, description: 'Per-plan rates for tenants with a `--plan` in the registry: `plan=per-minute,…`.', example: 'free=60,pro=3000' },
  { name: 'MAX_CONCURRENT_QUERIES_PER_TENANT', default: '8', description: 'Queries one tenant may run at once on one instance; as many more may wait briefly in a queue, the rest are refused. Keep it below FalkorDB\'s THREAD_COUNT so one tenant cannot occupy every database thread.', example: '4' },
  { name: 'MAX_CONCURRENT_QUERIES', default: '64', description: 'Queries all tenants together may run at once on one instance.', example: '128' },
  { name: 'QUERY_QUEUE_TIMEOUT_MS', default: '2000', description: 'Longest a query waits for a free slot before it is refused as "too many concurrent queries".', example: '5000' },
  { name: 'ALLOWED_IPS', default: undefined, description: 'Client addresses allowed to connect at all (comma-separated IPs or CIDR ranges, IPv4 or IPv6); others get 403 before any token work. Unset: any.', example: '10.0.0.0/8,2001:db8::/32' },
  { name: 'TRUST_PROXY', default: 'false', description: 'When to believe `X-Forwarded-For`: `false`, a number of proxy hops, or the proxies\' addresses as CIDR ranges.', example: '10.0.0.0/8' },
  { name: 'TLS_CERT_FILE', default: undefined, description: 'PEM certificate (chain) to serve HTTPS directly (TLS 1.2+); reloaded on SIGHUP. Needs TLS_KEY_FILE.', example: '/etc/falkordb-mcp-gateway/tls.crt' },
  { name: 'TLS_KEY_FILE', default: undefined, description: 'PEM private key of TLS_CERT_FILE.', example: '/etc/falkordb-mcp-gateway/tls.key' },
  { name: 'ALLOWED_ORIGINS', default: undefined, description: 'Browser origins allowed to call the gateway (comma-separated, e.g. an MCP web client); a request with any other `Origin` gets 403. Unset: only the gateway\'s own origin.', example: 'http://localhost:6274' },
  { name: 'AUDIT_QUERY_TEXT', default: 'false', description: 'Put the query text itself in audit events (it always has its SHA-256); parameter values never are.', example: 'true' },
  { name: 'AUDIT_LOG_FILE', default: undefined, description: 'Also append audit events to this file (JSON lines), reopened on SIGHUP for logrotate.', example: '/var/log/falkordb-mcp-gateway/audit.log' },
  { name: 'AUDIT_STREAM_MAXLEN', default: '10000', description: 'Audit events kept per tenant in the database server, for `audit tail`.', example: '100000' },
  { name: 'METRICS_HOST', default: '127.0.0.1', description: 'Address of the Prometheus metrics listener (never the tenant-facing port).', example: '0.0.0.0' },
  { name: 'METRICS_PORT', default: '9464', description: 'Port of the metrics listener (`/metrics`); `off` turns it off.', example: '9100' },
  { name: 'METRICS_TENANT_LABELS', default: 'top:100', description: 'Which tenants get their own metric label: `all`, `none`, or `top:N` (the first N tenants seen; the rest are counted as `other`).', example: 'top:500' },
  { name: 'USAGE_RETENTION_DAYS', default: '90', description: 'Days the per-tenant daily usage counters are kept in the database server.', example: '400' },
  { name: 'SHUTDOWN_TIMEOUT_MS', default: '10000', description: 'On SIGTERM, how long in-flight calls may take to finish before connections are closed.', example: '30000' },
] as const satisfies readonly ConfigVariable[];

export type ConfigVariableName = (typeof CONFIG_VARIABLES)[number]['name'];

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function integer(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

const falkordbUrl = z
  .string()
  .trim()
  .refine((v) => {
    if (v.startsWith('/')) return true;
    try {
      const u = new URL(v);
      return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be redis://host:port, rediss://host:port or an absolute unix socket path');

const nonEmpty = z.string().trim().min(1, 'must not be empty');

/** Whole seconds from `90`, `15m`, `1h`, `30d`, …, capped so a typo cannot mint a token for years. */
function duration(maxSec: number) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch {
        ctx.issues.push({ code: 'custom', input: text, message: `must be a duration above zero, such as ${DURATION_FORMS}` });
        return z.NEVER;
      }
    })
    .pipe(z.number().max(maxSec, `must be at most ${formatDuration(maxSec)}`));
}

const DAY_SEC = 24 * 3600;

/** A comma-separated list; empty entries are dropped. */
function list(each: (entry: string) => void, what: string) {
  return z.string().transform((text, ctx) => {
    const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
    for (const entry of entries) {
      try {
        each(entry);
      } catch {
        ctx.issues.push({ code: 'custom', input: text, message: `has ${JSON.stringify(entry.slice(0, 60))}, which is not ${what}` });
        return z.NEVER;
      }
    }
    return entries;
  });
}

const cidrList = list((entry) => parseCidr(entry), 'an IP address or CIDR range');

const originList = list((entry) => {
  const url = new URL(entry);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== entry.replace(/\/$/, '')) throw new Error('not an origin');
}, 'an origin such as https://app.example.com (scheme, host and port, no path)');

const trustProxy = z.string().transform((text, ctx): false | number | string[] => {
  const value = text.trim().toLowerCase();
  if (value === 'false' || value === '0' || value === 'no') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops <= 16) return hops;
  }
  const parsed = cidrList.safeParse(text);
  if (parsed.success && parsed.data.length > 0) return parsed.data;
  ctx.issues.push({ code: 'custom', input: text, message: 'must be false, a number of proxy hops (1 to 16), or the proxies\' addresses as CIDR ranges' });
  return z.NEVER;
});

const ratePlans = z.string().transform((text, ctx) => {
  const plans: Record<string, number> = {};
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const match = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})=(\d{1,9})$/.exec(entry);
    if (match === null) {
      ctx.issues.push({ code: 'custom', input: text, message: `has ${JSON.stringify(entry.slice(0, 60))}; write plan=requests-per-minute pairs separated by commas` });
      return z.NEVER;
    }
    plans[match[1]!] = Number(match[2]);
  }
  return plans;
});

const SCHEMA = {
  FALKORDB_URL: falkordbUrl.optional(),
  FALKORDB_DATA_DIR: nonEmpty,
  FALKORDB_SERVER_BIN: nonEmpty.optional(),
  FALKORDB_CONNECT_TIMEOUT_MS: integer(0, 600_000),
  HOST: nonEmpty.refine((v) => isIP(v) !== 0 || /^[A-Za-z0-9.-]+$/.test(v), 'must be an IP address or a host name'),
  PORT: integer(0, 65535),
  PUBLIC_URL: httpUrl.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
  AUTH_JWT_SECRET: z.string().refine((v) => Buffer.byteLength(v, 'utf8') >= 32, 'must be at least 32 bytes long').optional(),
  AUTH_PUBLIC_KEY_FILE: nonEmpty.optional(),
  AUTH_JWKS_URL: httpUrl.optional(),
  AUTH_ISSUER: nonEmpty,
  AUTH_AUDIENCE: nonEmpty,
  AUTH_TENANT_CLAIM: nonEmpty,
  AUTH_SIGNING_KEY_FILE: nonEmpty.optional(),
  AUTH_PREVIOUS_KEYS_DIR: nonEmpty.optional(),
  AUTH_CLOCK_TOLERANCE: integer(0, 3600),
  AUTH_ALLOW_QUERY_TOKEN: bool,
  ACCESS_TOKEN_TTL: duration(30 * DAY_SEC),
  REFRESH_TOKEN_TTL: duration(400 * DAY_SEC),
  TENANTS_REQUIRE_REGISTRATION: bool,
  QUERY_TIMEOUT_MS: integer(1, 3_600_000),
  MAX_ROWS: integer(1, 10_000_000),
  MAX_QUERY_LENGTH: integer(1, 10_000_000),
  ALLOW_LOAD_CSV: bool,
  MAX_PARAMETERS_BYTES: integer(2, 100 * 1024 * 1024),
  MAX_BODY_BYTES: integer(1024, 1024 * 1024 * 1024),
  RATE_LIMIT_PER_MINUTE: integer(0, 10_000_000),
  RATE_LIMIT_BURST: integer(0, 10_000_000),
  RATE_LIMIT_PLANS: ratePlans.optional(),
  MAX_CONCURRENT_QUERIES_PER_TENANT: integer(1, 10_000),
  MAX_CONCURRENT_QUERIES: integer(1, 100_000),
  QUERY_QUEUE_TIMEOUT_MS: integer(0, 600_000),
  ALLOWED_IPS: cidrList.optional(),
  TRUST_PROXY: trustProxy,
  TLS_CERT_FILE: nonEmpty.optional(),
  TLS_KEY_FILE: nonEmpty.optional(),
  ALLOWED_ORIGINS: originList.optional(),
  AUDIT_QUERY_TEXT: bool,
  AUDIT_LOG_FILE: nonEmpty.optional(),
  AUDIT_STREAM_MAXLEN: integer(1, 100_000_000),
  SHUTDOWN_TIMEOUT_MS: integer(0, 3_600_000),
  METRICS_HOST: nonEmpty.refine((v) => isIP(v) !== 0 || /^[A-Za-z0-9.-]+$/.test(v), 'must be an IP address or a host name'),
  METRICS_PORT: z.string().trim().toLowerCase().transform((text, ctx): number | 'off' => {
    if (text === 'off') return 'off';
    const port = /^\d+$/.test(text) ? Number(text) : NaN;
    if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
    ctx.issues.push({ code: 'custom', input: text, message: 'must be a port number (0 to 65535) or off' });
    return z.NEVER;
  }),
  METRICS_TENANT_LABELS: z.string().trim().toLowerCase().transform((text, ctx): 'all' | 'none' | number => {
    if (text === 'all' || text === 'none') return text;
    const top = /^top:(\d{1,6})$/.exec(text);
    if (top !== null && Number(top[1]) > 0) return Number(top[1]);
    ctx.issues.push({ code: 'custom', input: text, message: 'must be all, none or top:N (N above zero)' });
    return z.NEVER;
  }),
  USAGE_RETENTION_DAYS: integer(1, 3650),
} satisfies Record<ConfigVariableName, z.ZodType>;

export interface Config {
  falkordb: {
    url: string | undefined;
    dataDir: string;
    serverBin: string | undefined;
    connectTimeoutMs: number;
  };
  http: {
    host: string;
    port: number;
    publicUrl: string | undefined;
  };
  logLevel: (typeof LOG_LEVELS)[number];
  auth: {
    jwtSecret: string | undefined;
    publicKeyFile: string | undefined;
    jwksUrl: string | undefined;
    issuer: string;
    audience: string;
    tenantClaim: string;
    signingKeyFile: string | undefined;
    /** Absolute; PEM keys of earlier signing keys, still trusted for the tokens they signed. */
    previousKeysDir: string | undefined;
    clockToleranceSec: number;
    allowQueryToken: boolean;
    accessTokenTtlSec: number;
    refreshTokenTtlSec: number;
    /** No verification key configured and bound to loopback: the gateway signs its own tokens. */
    devMode: boolean;
  };
  tenants: {
    /** Refuse tokens for tenants missing from the registry, rather than serving any well-signed tenant. */
    requireRegistration: boolean;
  };
  query: {
    timeoutMs: number;
    maxRows: number;
    maxQueryLength: number;
    allowLoadCsv: boolean;
    maxParametersBytes: number;
  };
  limits: {
    maxBodyBytes: number;
    /** Per tenant per minute; 0: no limit. */
    ratePerMinute: number;
    rateBurst: number;
    /** Per-minute rate by registry plan name, overriding ratePerMinute. */
    ratePlans: Readonly<Record<string, number>>;
    maxConcurrentPerTenant: number;
    maxConcurrent: number;
    queueTimeoutMs: number;
  };
  network: {
    /** Empty: any address. */
    allowedIps: readonly string[];
    /** false: X-Forwarded-For is ignored; a hop count; or the proxies' CIDR ranges. */
    trustProxy: false | number | readonly string[];
    tlsCertFile: string | undefined;
    tlsKeyFile: string | undefined;
    /** Besides the gateway's own origin. */
    allowedOrigins: readonly string[];
  };
  audit: {
    queryText: boolean;
    logFile: string | undefined;
    streamMaxLen: number;
  };
  shutdownTimeoutMs: number;
  metrics: {
    host: string;
    /** 'off': no metrics listener; 0: a free port. */
    port: number | 'off';
    /** Tenants with their own label: all, none, or the first N seen. */
    tenantLabels: 'all' | 'none' | number;
  };
  usage: {
    retentionDays: number;
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function configError(variable: string, value: string | undefined, problem: string, example: string, secret: boolean): GatewayError {
  const shown = value === undefined ? '' : secret ? ' (value hidden)' : ` (got ${JSON.stringify(value)})`;
  return new GatewayError('CONFIG_INVALID', `${variable}${shown} ${problem}; for example ${variable}=${example}`, { variable });
}

export function isSecretVariable(variable: ConfigVariable): boolean {
  return variable.secret === true;
}

/** `AUTH_JWT_SECRET` → `AUTH_JWT_SECRET_FILE`: where Docker and Kubernetes secrets are mounted. */
export function secretFileVariable(name: string): string {
  return `${name}_FILE`;
}

/** A variable's text as given, and the name (NAME or NAME_FILE) and example to blame if it is bad. */
interface RawValue {
  text: string | undefined;
  variable: string;
  example: string;
}

function given(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function readRawValue(variable: ConfigVariable, env: Env): RawValue {
  const direct = given(env[variable.name]);
  const fileVariable = secretFileVariable(variable.name);
  const file = isSecretVariable(variable) ? given(env[fileVariable]) : undefined;
  if (file === undefined) return { text: direct, variable: variable.name, example: variable.example };

  const example = `/run/secrets/${variable.name.toLowerCase()}`;
  if (direct !== undefined) {
    throw new GatewayError('CONFIG_INVALID', `${variable.name} and ${fileVariable} are both set; set only one of them.`, { variable: fileVariable });
  }
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw configError(fileVariable, file, `cannot be read (${reason}); check the path and the file's permissions`, example, false);
  }
  // Editors and `echo` end files with a newline that is not part of the secret.
  const text = content.replace(/\r?\n$/, '');
  if (text === '') throw configError(fileVariable, file, 'names an empty file, but the value must not be empty; write it into the file', example, false);
  return { text, variable: fileVariable, example };
}

/** Parses the environment; throws a GatewayError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
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
  const v = values as { [K in ConfigVariableName]: z.output<(typeof SCHEMA)[K]> };

  const hasVerifier =
    v.AUTH_JWT_SECRET !== undefined || v.AUTH_PUBLIC_KEY_FILE !== undefined || v.AUTH_JWKS_URL !== undefined || v.AUTH_SIGNING_KEY_FILE !== undefined;
  const loopback = isLoopbackHost(v.HOST);
  if (!hasVerifier && !loopback) {
    throw configError(
      'HOST',
      v.HOST,
      'is not a loopback address, and no AUTH_JWT_SECRET (or AUTH_JWT_SECRET_FILE), AUTH_PUBLIC_KEY_FILE, AUTH_JWKS_URL or AUTH_SIGNING_KEY_FILE is set: dev mode (self-signed demo tokens) only runs on loopback. Set one of those, or',
      '127.0.0.1',
      false,
    );
  }

  if ((v.TLS_CERT_FILE === undefined) !== (v.TLS_KEY_FILE === undefined)) {
    const missing = v.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    const example = missing === 'TLS_CERT_FILE' ? '/etc/falkordb-mcp-gateway/tls.crt' : '/etc/falkordb-mcp-gateway/tls.key';
    throw configError(missing, undefined, 'is required when the other half of the TLS pair (TLS_CERT_FILE, TLS_KEY_FILE) is set', example, false);
  }

  const config: Config = {
    falkordb: {
      url: v.FALKORDB_URL,
      dataDir: path.resolve(v.FALKORDB_DATA_DIR),
      serverBin: v.FALKORDB_SERVER_BIN,
      connectTimeoutMs: v.FALKORDB_CONNECT_TIMEOUT_MS,
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
      accessTokenTtlSec: v.ACCESS_TOKEN_TTL,
      refreshTokenTtlSec: v.REFRESH_TOKEN_TTL,
      devMode: !hasVerifier && loopback,
    },
    tenants: { requireRegistration: v.TENANTS_REQUIRE_REGISTRATION },
    query: {
      timeoutMs: v.QUERY_TIMEOUT_MS,
      maxRows: v.MAX_ROWS,
      maxQueryLength: v.MAX_QUERY_LENGTH,
      allowLoadCsv: v.ALLOW_LOAD_CSV,
      maxParametersBytes: v.MAX_PARAMETERS_BYTES,
    },
    limits: {
      maxBodyBytes: v.MAX_BODY_BYTES,
      ratePerMinute: v.RATE_LIMIT_PER_MINUTE,
      rateBurst: v.RATE_LIMIT_BURST,
      ratePlans: v.RATE_LIMIT_PLANS ?? {},
      maxConcurrentPerTenant: v.MAX_CONCURRENT_QUERIES_PER_TENANT,
      maxConcurrent: v.MAX_CONCURRENT_QUERIES,
      queueTimeoutMs: v.QUERY_QUEUE_TIMEOUT_MS,
    },
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
    },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    metrics: { host: v.METRICS_HOST, port: v.METRICS_PORT, tenantLabels: v.METRICS_TENANT_LABELS },
    usage: { retentionDays: v.USAGE_RETENTION_DAYS },
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (inner !== null && typeof inner === 'object') deepFreeze(inner as object);
  }
  return Object.freeze(value);
}

/** The base URL clients reach the gateway at. */
export function publicBaseUrl(config: Config, boundPort?: number): string {
  if (config.http.publicUrl !== undefined) return config.http.publicUrl;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const scheme = config.network.tlsCertFile === undefined ? 'http' : 'https';
  return `${scheme}://${host}:${boundPort ?? config.http.port}`;
}
