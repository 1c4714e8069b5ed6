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
import { parseSize, SIZE_FORMS } from './size.js';
import { parseUpstreamRules, UPSTREAM_RULES_EXAMPLE, type UpstreamRule } from './tenancy/upstream-rules.js';

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
  { name: 'FALKORDB_CLUSTER_URLS', default: undefined, description: 'Seed nodes of a Redis/Valkey Cluster whose nodes load FalkorDB, comma-separated `redis://[user:pass@]host:port` (or `rediss://…`); the other nodes are discovered. Graphs spread over the shards. Not with FALKORDB_URL.', example: 'redis://:secret@10.0.0.1:6379,redis://:secret@10.0.0.2:6379,redis://:secret@10.0.0.3:6379', secret: true },
  { name: 'FALKORDB_DATA_DIR', default: './.data', description: 'Data folder of the embedded FalkorDB (and the dev-mode signing key).', example: '/var/lib/falkordb-mcp-gateway' },
  { name: 'FALKORDB_SERVER_BIN', default: undefined, description: 'Server binary (Redis or Valkey ≥ 7.2) for the embedded FalkorDB; found automatically when unset.', example: '/usr/bin/valkey-server' },
  { name: 'FALKORDB_CONNECT_TIMEOUT_MS', default: '10000', description: 'How long start-up keeps retrying an unreachable FalkorDB before it gives up.', example: '30000' },
  { name: 'FALKORDB_REPLICA_URLS', default: undefined, description: 'Read replicas of FALKORDB_URL, comma-separated `redis://…` or `rediss://…` URLs: read-only queries (GRAPH.RO_QUERY) go to the healthy ones in turn, everything else to the primary. A URL without a password uses FALKORDB_URL\'s. Replica reads may lag the primary; see docs/deployment.md.', example: 'redis://:secret@replica-1:6379,redis://:secret@replica-2:6379', secret: true },
  { name: 'FALKORDB_READ_AFTER_WRITE_MS', default: '2000', description: 'With read replicas: after this instance writes to a graph, its read-only queries on that graph go to the primary for this long, so a client reads its own writes through the same instance. `0` turns it off.', example: '5000' },
  { name: 'FALKORDB_SENTINELS', default: undefined, description: 'Sentinels that watch the FalkorDB primary, comma-separated `host:port` (port 26379 when left out); the gateway asks them for the primary and follows failovers. Needs FALKORDB_SENTINEL_MASTER; replaces FALKORDB_URL.', example: 'sentinel-1:26379,sentinel-2:26379,sentinel-3:26379' },
  { name: 'FALKORDB_SENTINEL_MASTER', default: undefined, description: 'Name the sentinels know the primary by (`sentinel monitor NAME …`).', example: 'falkordb' },
  { name: 'FALKORDB_SENTINEL_PASSWORD', default: undefined, description: 'Password of the sentinels themselves (`requirepass` in sentinel.conf), when they have one.', example: 'sentinel-secret', secret: true },
  { name: 'FALKORDB_SENTINEL_DATA_PASSWORD', default: undefined, description: 'With FALKORDB_SENTINELS: password of the FalkorDB primary and replicas (with FALKORDB_URL, put it in the URL instead).', example: 'secret', secret: true },
  { name: 'FALKORDB_SENTINEL_MIN_REPLICAS', default: '1', description: 'With FALKORDB_SENTINELS: a write is reported done only once this many replicas have it (`WAIT`), so a failover cannot lose it; if fewer confirm in time the call fails with WRITE_NOT_REPLICATED. `0` does not wait (a failover may then lose the last writes).', example: '2' },
  { name: 'FALKORDB_SENTINEL_WAIT_TIMEOUT_MS', default: '2000', description: 'With FALKORDB_SENTINELS: how long a write waits for FALKORDB_SENTINEL_MIN_REPLICAS replicas to confirm it.', example: '5000' },
  { name: 'FALKORDB_SENTINEL_FAILOVER_WAIT_MS', default: '30000', description: 'With FALKORDB_SENTINELS: how long a call waits for a primary while there is none (during a failover) before it fails with DATABASE_UNREACHABLE.', example: '60000' },
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
  { name: 'OAUTH_SERVER', default: 'true', description: 'When the gateway signs its own tokens: also be an OAuth 2.1 authorization server (`/oauth/authorize`, RFC 8414 metadata, PKCE S256, resource indicators), so hosts that accept only OAuth (Claude\'s and ChatGPT\'s connectors) add the gateway by its URL and sign in with an enrolment code (`device enrol`). See docs/onboarding.md.', example: 'false' },
  { name: 'OAUTH_REDIRECT_URIS', default: undefined, description: 'Redirect URIs OAuth clients may use besides the built-in ones (Claude\'s and ChatGPT\'s connector callbacks, and loopback addresses for desktop clients), comma-separated; an entry ending in `*` allows every URI that starts with the rest.', example: 'https://app.example.com/oauth/callback,https://tools.example.com/*' },
  { name: 'OAUTH_DYNAMIC_REGISTRATION', default: 'true', description: 'Let OAuth clients register themselves (RFC 7591, `/oauth/register`), limited to the allowed redirect URIs; `false` leaves only client ID metadata documents.', example: 'false' },
  { name: 'OAUTH_CLIENT_METADATA_DOCUMENTS', default: 'true', description: 'Accept an `https://` URL as an OAuth `client_id` and fetch the client\'s metadata from it (client ID metadata documents), limited to the allowed redirect URIs.', example: 'false' },
  { name: 'OAUTH_UPSTREAM_ISSUER', default: undefined, description: 'An OpenID provider (Google Workspace, Entra, Okta, Auth0, Keycloak…) people may sign in at on the connector sign-in page instead of typing an enrolment code; OAUTH_UPSTREAM_TENANTS decides what a sign-in grants. Register `PUBLIC_URL/oauth/upstream/callback` as the redirect URI there. `https://`, or `http://` on loopback only. See docs/onboarding.md.', example: 'https://login.example.com/realms/staff' },
  { name: 'OAUTH_UPSTREAM_CLIENT_ID', default: undefined, description: 'The gateway\'s client id at OAUTH_UPSTREAM_ISSUER.', example: 'falkordb-mcp-gateway' },
  { name: 'OAUTH_UPSTREAM_CLIENT_SECRET', default: undefined, description: 'The gateway\'s client secret at OAUTH_UPSTREAM_ISSUER (sent with HTTP Basic); unset for a public client, which signs in with PKCE alone.', example: 'a-secret-from-the-provider', secret: true },
  { name: 'OAUTH_UPSTREAM_TENANTS', default: undefined, description: 'What a sign-in at OAUTH_UPSTREAM_ISSUER grants: rules separated by `;`, each `MATCH -> TENANT SCOPES`, where MATCH is `domain:acme.com` (the verified email\'s domain), `group:graph-admins` (a value of OAUTH_UPSTREAM_GROUPS_CLAIM) or `claim:org_id=org_7` (any claim of the ID token, by name and value). The first rule that matches decides; a person no rule matches is refused.', example: 'group:graph-admins -> acme read write admin; domain:acme.com -> acme read write' },
  { name: 'OAUTH_UPSTREAM_GROUPS_CLAIM', default: 'groups', description: 'The ID token claim that `group:` rules of OAUTH_UPSTREAM_TENANTS read (a list of group names).', example: 'roles' },
  { name: 'OAUTH_UPSTREAM_SCOPE', default: 'openid email profile', description: 'Scopes the gateway asks OAUTH_UPSTREAM_ISSUER for; must include `openid`. Add the one that puts groups in the ID token if the provider needs it.', example: 'openid email profile groups' },
  { name: 'OAUTH_UPSTREAM_NAME', default: undefined, description: 'What the sign-in page\'s button calls OAUTH_UPSTREAM_ISSUER ("Sign in with …"). Unset: its host name.', example: 'Acme SSO' },
  { name: 'ENROLMENT_CODE_ATTEMPTS', default: '10', description: 'Enrolment codes one client address may try on the sign-in page in ten minutes, right or wrong; past it the page answers 429 until the ten minutes are over. Each instance counts its own.', example: '5' },
  { name: 'OAUTH_METADATA_PRIVATE_ADDRESSES', default: 'false', description: 'Fetch client ID metadata documents from loopback and private addresses too. Off by default, so a `client_id` cannot make the gateway reach into its own network; turn on only where the clients\' documents are served on an internal network.', example: 'true' },
  { name: 'TENANTS_REQUIRE_REGISTRATION', default: 'false', description: 'Refuse tokens for a tenant that is not in the tenant registry (the production setting).', example: 'true' },
  { name: 'TENANT_ISOLATION', default: 'prefix', description: 'How tenants are kept apart: `prefix` (the gateway builds every key inside the tenant\'s prefix), or `acl` (also one database ACL user per tenant, limited to its keys, so the database itself refuses another tenant\'s key; needs ACL_USER_SECRET). See docs/security.md.', example: 'acl' },
  { name: 'ACL_USER_SECRET', default: undefined, description: 'With TENANT_ISOLATION=acl: the key (at least 32 bytes) every instance derives the tenants\' database passwords from (HMAC-SHA256); the same on every instance, never stored.', example: 'a-random-string-of-at-least-32-bytes', secret: true },
  { name: 'ACL_POOL_MAX', default: '500', description: 'With TENANT_ISOLATION=acl: most connections this instance keeps open as tenants\' database users; the least recently used tenant\'s are closed (after its calls finish) and reopened on its next call.', example: '2000' },
  { name: 'QUERY_TIMEOUT_MS', default: '10000', description: 'Longest a query may run; a tool call\'s `timeoutMs` is capped by it.', example: '30000' },
  { name: 'QUERY_MEMORY_MAX_BYTES', default: '1073741824', description: 'Most memory one query may take in FalkorDB (its `QUERY_MEM_CAPACITY`); a query that needs more fails with QUERY_MEMORY_EXCEEDED.', example: '268435456' },
  { name: 'DATABASE_LIMITS', default: 'apply', description: 'What the gateway does about the limits FalkorDB itself enforces (query time, query memory, reply rows, no query recording; see docs/deployment.md) on a FalkorDB it did not start, on every server it sends queries to (the primary, each read replica, every cluster node, a primary Sentinel promotes), at start and again when one joins, restarts or is promoted: `apply` sets what is missing with GRAPH.CONFIG SET, `check` only checks; a server without them stops start-up with the commands to run, and later is logged as a warning with its address (a read replica then serves no reads until it has them). `off` warns at every start.', example: 'check' },
  { name: 'MAX_ROWS', default: '10000', description: 'Most rows a query returns; beyond it the result says `truncated: true`. FalkorDB sends the gateway at most one row more (its `RESULTSET_SIZE`, never below 5001, so exports read whole pages).', example: '1000' },
  { name: 'MAX_RESULT_BYTES', default: '1048576', description: 'Most bytes of JSON a query returns: the rows that fit are returned whole and the result says `truncated: true`; a first row bigger than this fails with RESULT_TOO_LARGE. MCP replies carry the result twice (as text and as structured content).', example: '262144' },
  { name: 'MAX_REPLY_BYTES', default: '4194304', description: 'Most bytes the gateway reads from FalkorDB for one query, counted as they arrive and before they are decoded; a bigger reply fails with RESULT_TOO_LARGE and is skipped, so one tenant\'s big replies cannot fill the gateway\'s memory. Exports and imports are not limited by it.', example: '33554432' },
  { name: 'MAX_QUERY_LENGTH', default: '100000', description: 'Longest query text, in characters.', example: '20000' },
  { name: 'EXACT_FLOATS', default: 'true', description: 'Return doubles exact to the last bit: FalkorDB prints 15 digits, so a read whose reply holds floats runs once more with a column that splits them (README, "Tools"). `false` returns the 15 printed digits and never runs a query twice.', example: 'false' },
  { name: 'ALLOW_LOAD_CSV', default: 'false', description: 'Allow Cypher `LOAD CSV` (reads files or URLs from the database server; off for tenants by default).', example: 'true' },
  { name: 'MAX_PARAMETERS_BYTES', default: '65536', description: 'Largest `parameters` object of a query, in bytes of JSON; refused before the database sees it.', example: '16384' },
  { name: 'SCHEMA_CACHE_TTL_MS', default: '60000', description: 'Longest a graph schema (`falkordb_graph_schema`) or a tenant\'s graph list (`falkordb_list_graphs`) is served from this instance\'s cache. A write through any instance invalidates it at once; this bounds how long a change made outside the gateway goes unseen. `0` turns both caches off.', example: '10000' },
  { name: 'QUERY_CACHE_TTL_MS', default: '0', description: 'Longest the result of a read-only query is served from this instance\'s cache, kept per tenant, graph, query text and parameters. A write through any instance invalidates the graph\'s results at once. `0` turns the result cache off.', example: '5000' },
  { name: 'QUERY_CACHE_MAX_BYTES', default: '67108864', description: 'Memory the query result cache may use on one instance, counted as the JSON size of the cached results; the least recently used go first, and one result may take at most a quarter of it.', example: '268435456' },
  { name: 'MAX_BODY_BYTES', default: '1048576', description: 'Largest request body, in bytes; bigger bodies get 413.', example: '262144' },
  { name: 'RATE_LIMIT_PER_MINUTE', default: '600', description: 'Requests a tenant may make per minute, counted in the database server so all instances share one budget: every tool call counts once (each call of a batched POST, each call inside an SSE session), and a request with no tool call (`initialize`, `tools/list`, opening an SSE session) counts once; `0` turns the limit off.', example: '120' },
  { name: 'RATE_LIMIT_BURST', default: '60', description: 'Extra requests a tenant may make in a minute beyond its rate, to absorb short spikes.', example: '20' },
  { name: 'RATE_LIMIT_PLANS', default: undefined, description: 'Per-plan rates for tenants with a `--plan` in the registry: `plan=per-minute,…`.', example: 'free=60,pro=3000' },
  { name: 'MAX_CONCURRENT_QUERIES_PER_TENANT', default: '8', description: 'Queries one tenant may run at once on one instance; as many more may wait briefly in a queue, the rest are refused. FalkorDB\'s THREAD_COUNT must be above it, so one tenant cannot occupy every database thread: the embedded server starts with twice as many threads, and DATABASE_LIMITS refuses an external server with too few.', example: '4' },
  { name: 'MAX_CONCURRENT_QUERIES', default: '64', description: 'Queries all tenants together may run at once on one instance.', example: '128' },
  { name: 'TOKEN_REQUESTS_PER_MINUTE', default: '300', description: 'Requests to `/oauth/token` one client address may make per minute on one instance (a refresh names no tenant until it is verified, so it is counted by address, not against a tenant\'s rate); over it, 429 `RATE_LIMITED` with `Retry-After`. `0` turns the limit off.', example: '20' },
  { name: 'SSE_MAX_SESSIONS_PER_DEVICE', default: '20', description: 'Legacy SSE sessions one client may keep open on one instance at once (one device of a tenant: the token\'s subject and device, or the token itself when it names no device); the next is refused with SESSION_LIMIT until one closes.', example: '5' },
  { name: 'SSE_MAX_SESSIONS_PER_TENANT', default: '100', description: 'Legacy SSE sessions all clients of one tenant may keep open on one instance at once.', example: '500' },
  { name: 'SSE_IDLE_TIMEOUT_MS', default: '1800000', description: 'An SSE session that receives no POST for this long is closed (the server\'s own keep-alive comments do not count); the client reconnects when it needs the session again. `0`: sessions are closed only at the token\'s `exp`.', example: '600000' },
  { name: 'QUERY_QUEUE_TIMEOUT_MS', default: '2000', description: 'Longest a query waits for a free slot before it is refused as "too many concurrent queries".', example: '5000' },
  { name: 'TENANT_STORAGE_QUOTA_BYTES', default: '0', description: 'Most storage one tenant\'s graphs may take in FalkorDB, by default (`tenant add|set --storage-quota` sets one tenant\'s own): bytes, or a size such as `512MiB` or `2GB`; `0`: no quota. Measured with `GRAPH.MEMORY USAGE`, each graph counted at its size in whole MiB plus 1 MiB. A tenant at or over it gets STORAGE_QUOTA_EXCEEDED for writes that may add data; reads and deletes always run.', example: '2GiB' },
  { name: 'TENANT_STORAGE_CHECK_MS', default: '10000', description: 'How often each instance measures a tenant\'s storage again while it writes (TENANT_STORAGE_QUOTA_BYTES); in between, the last measurement decides, so a tenant may overshoot its quota by what it writes in this time, and space it frees is seen after it.', example: '60000' },
  { name: 'ALLOWED_IPS', default: undefined, description: 'Client addresses allowed to connect at all (comma-separated IPs or CIDR ranges, IPv4 or IPv6); others get 403 before any token work. Unset: any.', example: '10.0.0.0/8,2001:db8::/32' },
  { name: 'TRUST_PROXY', default: 'false', description: 'When to believe `X-Forwarded-For`: `false`, a number of proxy hops, or the proxies\' addresses as CIDR ranges.', example: '10.0.0.0/8' },
  { name: 'TLS_CERT_FILE', default: undefined, description: 'PEM certificate (chain) to serve HTTPS directly (TLS 1.2+); reloaded on SIGHUP. Needs TLS_KEY_FILE.', example: '/etc/falkordb-mcp-gateway/tls.crt' },
  { name: 'TLS_KEY_FILE', default: undefined, description: 'PEM private key of TLS_CERT_FILE.', example: '/etc/falkordb-mcp-gateway/tls.key' },
  { name: 'ALLOWED_ORIGINS', default: undefined, description: 'Browser origins allowed to call the gateway (comma-separated, e.g. an MCP web client); a request with any other `Origin` gets 403. Unset: only the gateway\'s own origin.', example: 'http://localhost:6274' },
  { name: 'AUTH_FAILURES_PER_MINUTE', default: '100', description: 'Failed authentications one client address (as `TRUST_PROXY` reads it) may cause per minute on one instance, counted in its memory; past it the address gets 429 with `Retry-After` before its tokens are checked, except tokens this instance accepted in the last minute. `0` turns the limit off.', example: '30' },
  { name: 'AUDIT_REFUSALS_PER_MINUTE', default: '20', description: 'Refused requests of one client address (and tenant, if verified) written to the audit trail one by one per minute on one instance; past it the rest of the minute becomes one `refusals_summarised` event with the count per error code.', example: '50' },
  { name: 'AUDIT_QUERY_TEXT', default: 'false', description: 'Put the query text itself in audit events (it always has its SHA-256); parameter values never are.', example: 'true' },
  { name: 'AUDIT_LOG_FILE', default: undefined, description: 'Also append audit events to this file (JSON lines), reopened on SIGHUP for logrotate.', example: '/var/log/falkordb-mcp-gateway/audit.log' },
  { name: 'AUDIT_BUFFER_MAX', default: '10000', description: 'Audit events one instance holds in memory while the database does not take writes (its primary down), written to the stream in order once it does; past it each further event is dropped from the stream (still logged) and counted in `falkordb_gateway_audit_sink_failures_total{sink="stream"}`. `0`: none is held.', example: '100000' },
  { name: 'AUDIT_STREAM_MAXLEN', default: '10000', description: 'Audit events kept per tenant in the database server, for `audit tail`.', example: '100000' },
  { name: 'METRICS_HOST', default: '127.0.0.1', description: 'Address of the Prometheus metrics listener (never the tenant-facing port).', example: '0.0.0.0' },
  { name: 'METRICS_PORT', default: '9464', description: 'Port of the metrics listener (`/metrics`); `off` turns it off. Left unset and found taken (a second gateway on this machine), a free port is used instead and the log line `metrics listening` names it; set explicitly and taken, start-up stops with PORT_IN_USE.', example: '9100' },
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

/** Why a list of cluster seed URLs is unusable; never quotes a seed, which may hold a password. */
function clusterSeedsProblem(seeds: readonly string[]): string | undefined {
  if (seeds.length === 0) return 'must name at least one seed node';
  let first: URL | undefined;
  for (const [i, seed] of seeds.entries()) {
    const which = `seed ${i + 1} of ${seeds.length}`;
    let url: URL;
    try {
      url = new URL(seed);
    } catch {
      return `has ${which}, which is not a URL: each seed is redis://[user:pass@]host:port or rediss://…`;
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return `has ${which} with the scheme ${url.protocol} (a cluster is reached over TCP): each seed is redis://host:port or rediss://host:port`;
    if (url.hostname === '') return `has ${which} without a host: each seed is redis://host:port`;
    if (!['', '/', '/0'].includes(url.pathname)) return `has ${which} with a database number, but a cluster has only database 0: drop the /N`;
    if (first !== undefined && (url.protocol !== first.protocol || url.username !== first.username || url.password !== first.password)) {
      return `has ${which} with another scheme, user or password than seed 1, but every node of the cluster is reached with the same ones`;
    }
    first ??= url;
  }
  return undefined;
}

const clusterSeeds = z.string().transform((text, ctx) => {
  const seeds = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const problem = clusterSeedsProblem(seeds);
  if (problem === undefined) return seeds;
  ctx.issues.push({ code: 'custom', input: text, message: problem });
  return z.NEVER;
});

/** Other ways to name the database, each of which excludes FALKORDB_CLUSTER_URLS. */
const NOT_WITH_CLUSTER = ['FALKORDB_URL', 'FALKORDB_REPLICA_URLS', 'FALKORDB_SENTINELS'];

/** Comma-separated redis:// or rediss:// URLs (no unix sockets: a replica is another machine's server). */
const replicaUrlList = z.string().transform((text, ctx) => {
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const [index, entry] of entries.entries()) {
    let ok = false;
    try {
      const u = new URL(entry);
      ok = (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
    } catch {
      // not a URL
    }
    if (!ok) {
      // The entry may carry a password: say which one is wrong by position, never by value.
      ctx.issues.push({ code: 'custom', input: text, message: `has an entry (number ${index + 1}) that is not a redis://host:port or rediss://host:port URL` });
      return z.NEVER;
    }
  }
  return entries;
});

export interface SentinelNode {
  host: string;
  port: number;
}

/** `host:port`, `host` (port 26379) or `[v6addr]:port`. */
export function parseSentinelNode(entry: string): SentinelNode {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(entry);
  const port = match?.[3] === undefined ? 26379 : Number(match[3]);
  if (match === null || port < 1 || port > 65535) throw new Error('not host:port');
  return { host: match[1] ?? match[2]!, port };
}

const sentinelList = list((entry) => parseSentinelNode(entry), 'host:port (a sentinel\'s address, such as sentinel-1:26379)').transform((entries) => entries.map(parseSentinelNode));

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

/** Whole bytes from `1048576`, `512MiB`, `2GB`, … (src/size.ts). */
function size() {
  return z.string().transform((text, ctx) => {
    try {
      return parseSize(text);
    } catch {
      ctx.issues.push({ code: 'custom', input: text, message: `must be a size in bytes, such as ${SIZE_FORMS}` });
      return z.NEVER;
    }
  });
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

const redirectUriList = list((entry) => {
  const url = new URL(entry.endsWith('*') ? entry.slice(0, -1) : entry);
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(url.protocol)) throw new Error('not a redirect URI');
  if (url.hash !== '') throw new Error('has a fragment');
}, 'a redirect URI such as https://app.example.com/callback (no fragment; a trailing * allows every URI that starts with the rest)');

/** An OpenID issuer: https, or http on a loopback address (a provider on the same machine). */
const upstreamIssuer = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname.replace(/^\[|\]$/g, '')));
    } catch {
      return false;
    }
  }, 'must be an https:// URL (http:// only on a loopback address)')
  .transform((v) => v.replace(/\/+$/, ''));

const upstreamRules = z.string().transform((text, ctx) => {
  try {
    return parseUpstreamRules(text);
  } catch (error) {
    ctx.issues.push({ code: 'custom', input: text, message: (error as Error).message });
    return z.NEVER;
  }
});

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
  FALKORDB_CLUSTER_URLS: clusterSeeds.optional(),
  FALKORDB_DATA_DIR: nonEmpty,
  FALKORDB_SERVER_BIN: nonEmpty.optional(),
  FALKORDB_CONNECT_TIMEOUT_MS: integer(0, 600_000),
  FALKORDB_REPLICA_URLS: replicaUrlList.optional(),
  FALKORDB_READ_AFTER_WRITE_MS: integer(0, 3_600_000),
  FALKORDB_SENTINELS: sentinelList.optional(),
  FALKORDB_SENTINEL_MASTER: nonEmpty.regex(/^[^\s]+$/, 'must be one word, the name in `sentinel monitor NAME host port quorum`').optional(),
  FALKORDB_SENTINEL_PASSWORD: z.string().optional(),
  FALKORDB_SENTINEL_DATA_PASSWORD: z.string().optional(),
  FALKORDB_SENTINEL_MIN_REPLICAS: integer(0, 100),
  FALKORDB_SENTINEL_WAIT_TIMEOUT_MS: integer(1, 600_000),
  FALKORDB_SENTINEL_FAILOVER_WAIT_MS: integer(100, 3_600_000),
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
  OAUTH_SERVER: bool,
  OAUTH_REDIRECT_URIS: redirectUriList.optional(),
  OAUTH_DYNAMIC_REGISTRATION: bool,
  OAUTH_CLIENT_METADATA_DOCUMENTS: bool,
  OAUTH_METADATA_PRIVATE_ADDRESSES: bool,
  ENROLMENT_CODE_ATTEMPTS: integer(1, 1_000_000),
  OAUTH_UPSTREAM_ISSUER: upstreamIssuer.optional(),
  OAUTH_UPSTREAM_CLIENT_ID: nonEmpty.optional(),
  OAUTH_UPSTREAM_CLIENT_SECRET: nonEmpty.optional(),
  OAUTH_UPSTREAM_TENANTS: upstreamRules.optional(),
  OAUTH_UPSTREAM_GROUPS_CLAIM: nonEmpty,
  OAUTH_UPSTREAM_SCOPE: z.string().trim().refine((v) => v.split(/\s+/).includes('openid'), 'must include openid'),
  OAUTH_UPSTREAM_NAME: nonEmpty.optional(),
  ACCESS_TOKEN_TTL: duration(30 * DAY_SEC),
  REFRESH_TOKEN_TTL: duration(400 * DAY_SEC),
  TENANTS_REQUIRE_REGISTRATION: bool,
  TENANT_ISOLATION: z.string().trim().toLowerCase().pipe(z.enum(['prefix', 'acl'], { error: 'must be prefix or acl' })),
  ACL_USER_SECRET: z.string().refine((v) => Buffer.byteLength(v, 'utf8') >= 32, 'must be at least 32 bytes long').optional(),
  ACL_POOL_MAX: integer(1, 1_000_000),
  QUERY_TIMEOUT_MS: integer(1, 3_600_000),
  QUERY_MEMORY_MAX_BYTES: integer(1_048_576, 1024 * 1024 * 1024 * 1024),
  DATABASE_LIMITS: z.string().trim().toLowerCase().pipe(z.enum(['apply', 'check', 'off'], { error: 'must be apply, check or off' })),
  MAX_ROWS: integer(1, 10_000_000),
  MAX_RESULT_BYTES: integer(1024, 1024 * 1024 * 1024),
  MAX_REPLY_BYTES: integer(1024, 16 * 1024 * 1024 * 1024),
  MAX_QUERY_LENGTH: integer(1, 10_000_000),
  ALLOW_LOAD_CSV: bool,
  EXACT_FLOATS: bool,
  MAX_PARAMETERS_BYTES: integer(2, 100 * 1024 * 1024),
  SCHEMA_CACHE_TTL_MS: integer(0, 86_400_000),
  QUERY_CACHE_TTL_MS: integer(0, 86_400_000),
  QUERY_CACHE_MAX_BYTES: integer(1024, 64 * 1024 * 1024 * 1024),
  MAX_BODY_BYTES: integer(1024, 1024 * 1024 * 1024),
  RATE_LIMIT_PER_MINUTE: integer(0, 10_000_000),
  RATE_LIMIT_BURST: integer(0, 10_000_000),
  RATE_LIMIT_PLANS: ratePlans.optional(),
  MAX_CONCURRENT_QUERIES_PER_TENANT: integer(1, 10_000),
  MAX_CONCURRENT_QUERIES: integer(1, 100_000),
  QUERY_QUEUE_TIMEOUT_MS: integer(0, 600_000),
  TENANT_STORAGE_QUOTA_BYTES: size(),
  TENANT_STORAGE_CHECK_MS: integer(0, 86_400_000),
  TOKEN_REQUESTS_PER_MINUTE: integer(0, 1_000_000),
  SSE_MAX_SESSIONS_PER_DEVICE: integer(1, 100_000),
  SSE_MAX_SESSIONS_PER_TENANT: integer(1, 1_000_000),
  SSE_IDLE_TIMEOUT_MS: integer(0, 2 ** 31 - 1),
  ALLOWED_IPS: cidrList.optional(),
  TRUST_PROXY: trustProxy,
  TLS_CERT_FILE: nonEmpty.optional(),
  TLS_KEY_FILE: nonEmpty.optional(),
  ALLOWED_ORIGINS: originList.optional(),
  AUDIT_QUERY_TEXT: bool,
  AUDIT_LOG_FILE: nonEmpty.optional(),
  AUDIT_STREAM_MAXLEN: integer(1, 100_000_000),
  AUDIT_BUFFER_MAX: integer(0, 10_000_000),
  AUTH_FAILURES_PER_MINUTE: integer(0, 10_000_000),
  AUDIT_REFUSALS_PER_MINUTE: integer(1, 10_000_000),
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

export interface UpstreamOAuthConfig {
  /** Without a trailing slash. */
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  rules: UpstreamRule[];
  groupsClaim: string;
  /** Space-separated, with `openid`. */
  scope: string;
  /** Shown on the sign-in button. */
  name: string;
}

export interface Config {
  falkordb: {
    url: string | undefined;
    /** Seed nodes of a cluster; undefined when not using one. */
    clusterUrls: string[] | undefined;
    dataDir: string;
    serverBin: string | undefined;
    connectTimeoutMs: number;
    /** Read replicas of `url`; empty: none. */
    replicaUrls: readonly string[];
    /** After a write to a graph, its reads stay on the primary this long (this instance only); 0: off. */
    readAfterWriteMs: number;
    /** Set when the primary is found through sentinels instead of `url`. */
    sentinel: SentinelConfig | undefined;
    /** What start-up does about GRAPH.CONFIG limits on a server it did not start. */
    limitsMode: 'apply' | 'check' | 'off';
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
  oauth: {
    /** Be an authorization server when the gateway signs its own tokens. */
    server: boolean;
    /** Redirect URIs allowed besides the built-in ones; an entry ending in `*` is a prefix. */
    redirectUris: string[];
    dynamicRegistration: boolean;
    clientMetadataDocuments: boolean;
    metadataPrivateAddresses: boolean;
    /** Codes one address may try in ten minutes. */
    codeAttempts: number;
    /** Sign-in at an OpenID provider, besides enrolment codes. */
    upstream: UpstreamOAuthConfig | undefined;
  };
  tenants: {
    /** Refuse tokens for tenants missing from the registry, rather than serving any well-signed tenant. */
    requireRegistration: boolean;
  };
  isolation: {
    /** prefix: keys built by the gateway only; acl: also one database user per tenant, limited to its key pattern. */
    mode: 'prefix' | 'acl';
    /** HMAC key the tenants' database passwords derive from; set whenever mode is acl. */
    aclUserSecret: string | undefined;
    /** Most connections kept open as tenants' database users. */
    aclPoolMax: number;
  };
  query: {
    timeoutMs: number;
    /** FalkorDB's QUERY_MEM_CAPACITY. */
    memoryMaxBytes: number;
    maxRows: number;
    /** Most bytes of JSON one result returns (whole rows). */
    maxResultBytes: number;
    /** Most bytes read from the database for one query's reply. */
    maxReplyBytes: number;
    maxQueryLength: number;
    allowLoadCsv: boolean;
    /** Rebuild doubles exactly with a second read-only run (EXACT_FLOATS). */
    exactFloats: boolean;
    maxParametersBytes: number;
  };
  cache: {
    /** Schema and graph-list caches; 0: off. */
    schemaTtlMs: number;
    /** Read-only query result cache; 0: off. */
    queryTtlMs: number;
    queryMaxBytes: number;
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
    /** /oauth/token requests per client address per minute, per instance; 0: no limit. */
    tokenRequestsPerMinute: number;
    /** Default storage quota of a tenant's graphs in bytes; 0: none. A tenant record's own overrides it. */
    storageQuotaBytes: number;
    /** Longest a measurement of a tenant's storage is reused on one instance. */
    storageCheckMs: number;
  };
  sse: {
    /** Open sessions per client (tenant, subject, device or token) on this instance. */
    maxSessionsPerDevice: number;
    /** Open sessions per tenant on this instance. */
    maxSessionsPerTenant: number;
    /** A session with no POST for this long is closed; 0: never for idleness. */
    idleTimeoutMs: number;
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
    /** Refusals per address and minute written one by one; the rest are summarised. Unset: every one is written. */
    refusalsPerMinute?: number;
    /** Events held in memory while the database does not take writes (AUDIT_BUFFER_MAX); unset or 0: none. */
    bufferMax?: number;
  };
  refusals: {
    /** Failed authentications per client address and minute on one instance; 0: no limit. */
    authFailuresPerMinute: number;
  };
  shutdownTimeoutMs: number;
  metrics: {
    host: string;
    /** 'off': no metrics listener; 0: a free port. */
    port: number | 'off';
    /**
     * METRICS_PORT was set. When it was not and its default is taken (another
     * gateway on this machine), the listener takes a free port instead of failing.
     */
    portExplicit: boolean;
    /** Tenants with their own label: all, none, or the first N seen. */
    tenantLabels: 'all' | 'none' | number;
  };
  usage: {
    retentionDays: number;
  };
}

export interface SentinelConfig {
  nodes: readonly SentinelNode[];
  masterName: string;
  /** Of the sentinels themselves. */
  sentinelPassword: string | undefined;
  /** Of the primary and replicas. */
  password: string | undefined;
  /** Replicas that must confirm a write (WAIT) before it is reported done; 0: no wait. */
  minReplicas: number;
  waitTimeoutMs: number;
  /** How long a call waits for a primary during a failover. */
  failoverWaitMs: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function configError(variable: string, value: string | undefined, problem: string, example: string, secret: boolean): GatewayError {
  const shown = value === undefined ? '' : secret ? ' (value hidden)' : ` (got ${JSON.stringify(value)})`;
  return new GatewayError('CONFIG_INVALID', `${variable}${shown} ${problem}; for example ${variable}=${example}`, { variable });
}

/** Dev mode signs its own demo tokens, so it must not be reachable from other machines: say both ways out. */
function devModeHostMessage(host: string): string {
  return (
    `HOST (got ${JSON.stringify(host)}) is not a loopback address, and dev mode (self-signed demo tokens, used when no verification key is set) only runs on loopback. ` +
    'To serve other machines, set a verification key: AUTH_JWT_SECRET (or AUTH_JWT_SECRET_FILE), AUTH_PUBLIC_KEY_FILE, AUTH_JWKS_URL or AUTH_SIGNING_KEY_FILE. ' +
    'To stay in dev mode, listen on loopback, for example HOST=127.0.0.1.'
  );
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

const UPSTREAM_PARTS = ['OAUTH_UPSTREAM_CLIENT_ID', 'OAUTH_UPSTREAM_CLIENT_SECRET', 'OAUTH_UPSTREAM_TENANTS', 'OAUTH_UPSTREAM_NAME'] as const;

/** Federation needs its three parts together, and a gateway that runs its own authorization server. */
function checkUpstream(v: Values, devMode: boolean): void {
  if (v.OAUTH_UPSTREAM_ISSUER === undefined) {
    const stray = UPSTREAM_PARTS.find((name) => v[name] !== undefined);
    if (stray !== undefined) throw new GatewayError('CONFIG_INVALID', `${stray} is only used with OAUTH_UPSTREAM_ISSUER; set OAUTH_UPSTREAM_ISSUER to the OpenID provider people sign in at, or unset ${stray}.`, { variable: stray });
    return;
  }
  if (v.OAUTH_UPSTREAM_CLIENT_ID === undefined) {
    throw configError('OAUTH_UPSTREAM_CLIENT_ID', undefined, 'is required with OAUTH_UPSTREAM_ISSUER (the client id the provider gave the gateway)', 'falkordb-mcp-gateway', false);
  }
  if (v.OAUTH_UPSTREAM_TENANTS === undefined) {
    throw configError('OAUTH_UPSTREAM_TENANTS', undefined, 'is required with OAUTH_UPSTREAM_ISSUER (which tenant and scopes a sign-in there grants)', `"${UPSTREAM_RULES_EXAMPLE}"`, false);
  }
  if (!v.OAUTH_SERVER) {
    throw new GatewayError('CONFIG_INVALID', 'OAUTH_UPSTREAM_ISSUER is set but OAUTH_SERVER is false; the upstream sign-in is a step of the gateway\'s own authorization server. Set OAUTH_SERVER=true, or unset OAUTH_UPSTREAM_ISSUER.', { variable: 'OAUTH_UPSTREAM_ISSUER' });
  }
  if (v.AUTH_SIGNING_KEY_FILE === undefined && !devMode) {
    throw new GatewayError('CONFIG_INVALID', 'OAUTH_UPSTREAM_ISSUER is set but the gateway does not sign its own tokens, so it has no authorization server for people to sign in through; set AUTH_SIGNING_KEY_FILE (keys generate makes one), or unset OAUTH_UPSTREAM_ISSUER.', { variable: 'OAUTH_UPSTREAM_ISSUER' });
  }
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
  const v = values as Values;

  if (v.FALKORDB_CLUSTER_URLS !== undefined) {
    const other = NOT_WITH_CLUSTER.find((name) => given(env[name]) !== undefined || given(env[secretFileVariable(name)]) !== undefined);
    if (other !== undefined) {
      throw new GatewayError(
        'CONFIG_INVALID',
        `FALKORDB_CLUSTER_URLS and ${other} are both set; set only one: a cluster's nodes are found from its seeds, and each shard's replicas and failover are the cluster's own.`,
        { variable: 'FALKORDB_CLUSTER_URLS' },
      );
    }
  }

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

  const config: Config = {
    falkordb: {
      url: v.FALKORDB_URL,
      clusterUrls: v.FALKORDB_CLUSTER_URLS,
      dataDir: path.resolve(v.FALKORDB_DATA_DIR),
      serverBin: v.FALKORDB_SERVER_BIN,
      connectTimeoutMs: v.FALKORDB_CONNECT_TIMEOUT_MS,
      replicaUrls: v.FALKORDB_REPLICA_URLS ?? [],
      readAfterWriteMs: v.FALKORDB_READ_AFTER_WRITE_MS,
      sentinel:
        v.FALKORDB_SENTINELS === undefined || v.FALKORDB_SENTINEL_MASTER === undefined
          ? undefined
          : {
              nodes: v.FALKORDB_SENTINELS,
              masterName: v.FALKORDB_SENTINEL_MASTER,
              sentinelPassword: v.FALKORDB_SENTINEL_PASSWORD,
              password: v.FALKORDB_SENTINEL_DATA_PASSWORD,
              minReplicas: v.FALKORDB_SENTINEL_MIN_REPLICAS,
              waitTimeoutMs: v.FALKORDB_SENTINEL_WAIT_TIMEOUT_MS,
              failoverWaitMs: v.FALKORDB_SENTINEL_FAILOVER_WAIT_MS,
            },
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
    },
    refusals: { authFailuresPerMinute: v.AUTH_FAILURES_PER_MINUTE },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    metrics: { host: v.METRICS_HOST, port: v.METRICS_PORT, portExplicit: given(env['METRICS_PORT']) !== undefined, tenantLabels: v.METRICS_TENANT_LABELS },
    usage: { retentionDays: v.USAGE_RETENTION_DAYS },
  };
  return deepFreeze(config);
}

type Values = { [K in ConfigVariableName]: z.output<(typeof SCHEMA)[K]> };

/** The ways to name the database that cannot be combined, refused with what to do instead. */
function checkTopology(v: Values): void {
  const sentinels = v.FALKORDB_SENTINELS !== undefined;
  if (sentinels && v.FALKORDB_SENTINEL_MASTER === undefined) {
    throw configError('FALKORDB_SENTINEL_MASTER', undefined, 'is required with FALKORDB_SENTINELS (the name the sentinels monitor the primary by)', 'falkordb', false);
  }
  if (!sentinels && v.FALKORDB_SENTINEL_MASTER !== undefined) {
    throw configError('FALKORDB_SENTINELS', undefined, 'is required with FALKORDB_SENTINEL_MASTER (the sentinels\' addresses, comma-separated host:port)', 'sentinel-1:26379,sentinel-2:26379', false);
  }
  if (sentinels && v.FALKORDB_URL !== undefined) {
    throw new GatewayError('CONFIG_INVALID', 'FALKORDB_URL and FALKORDB_SENTINELS are both set; set only one: with sentinels the gateway asks them where the primary is. Put the data nodes\' password in FALKORDB_SENTINEL_DATA_PASSWORD.', { variable: 'FALKORDB_SENTINELS' });
  }
  if (sentinels && v.FALKORDB_REPLICA_URLS !== undefined) {
    throw new GatewayError('CONFIG_INVALID', 'FALKORDB_REPLICA_URLS and FALKORDB_SENTINELS are both set; with sentinels every call goes to the primary the sentinels name, and the replicas stand by for failover. Unset FALKORDB_REPLICA_URLS.', { variable: 'FALKORDB_REPLICA_URLS' });
  }
  if (!sentinels) {
    for (const name of ['FALKORDB_SENTINEL_DATA_PASSWORD', 'FALKORDB_SENTINEL_PASSWORD'] as const) {
      if (v[name] !== undefined) {
        throw new GatewayError('CONFIG_INVALID', `${name} is only used with FALKORDB_SENTINELS; with FALKORDB_URL put the password in the URL (redis://:PASSWORD@host:port).`, { variable: name });
      }
    }
  }
  if (v.FALKORDB_REPLICA_URLS !== undefined && v.FALKORDB_REPLICA_URLS.length > 0) {
    if (v.FALKORDB_URL === undefined) {
      throw new GatewayError('CONFIG_INVALID', 'FALKORDB_REPLICA_URLS is set but FALKORDB_URL is not; replicas need the primary they replicate, named in FALKORDB_URL.', { variable: 'FALKORDB_REPLICA_URLS' });
    }
    const primary = sameServerKey(v.FALKORDB_URL);
    const seen = new Set<string>();
    for (const [index, url] of v.FALKORDB_REPLICA_URLS.entries()) {
      const key = sameServerKey(url);
      if (key === primary) throw new GatewayError('CONFIG_INVALID', `FALKORDB_REPLICA_URLS entry number ${index + 1} is the primary of FALKORDB_URL itself; list only its replicas.`, { variable: 'FALKORDB_REPLICA_URLS' });
      if (seen.has(key)) throw new GatewayError('CONFIG_INVALID', `FALKORDB_REPLICA_URLS entry number ${index + 1} names a replica listed before it; list each replica once.`, { variable: 'FALKORDB_REPLICA_URLS' });
      seen.add(key);
    }
  }
}

/** host:port of a server URL (the path for a unix socket), to spot one server listed twice. */
function sameServerKey(url: string): string {
  if (url.startsWith('/')) return url;
  const u = new URL(url);
  return `${u.hostname.toLowerCase()}:${u.port || '6379'}`;
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
