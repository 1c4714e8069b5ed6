// README's configuration table and docs/configuration.md, both generated from
// CONFIG_VARIABLES so the documentation never drifts from the code.

import { CONFIG_VARIABLES, isSecretVariable, secretFileVariable, type ConfigVariable } from '../src/config/index.js';
import { DURATION_FORMS } from '../src/duration.js';

function meaning(v: ConfigVariable): string {
  return isSecretVariable(v) ? `${v.description} Also as \`${secretFileVariable(v.name)}\`.` : v.description;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function configTableMarkdown(): string {
  const rows = CONFIG_VARIABLES.map((v) => `| \`${v.name}\` | ${cell(meaning(v))} | ${v.default === undefined ? '' : `\`${v.default}\``} |`);
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
}

export interface ConfigGroup {
  title: string;
  /** One paragraph above the group's table. */
  intro: string;
  names: readonly string[];
}

/** How docs/configuration.md groups the variables; a variable in none of them lands in OTHER_GROUP_TITLE. */
export const CONFIG_GROUPS: readonly ConfigGroup[] = [
  {
    title: 'Database',
    intro:
      'Where the graphs and the gateway state live. `FALKORDB_CLUSTER_URLS` names a Redis/Valkey Cluster instead (see [deployment.md](deployment.md#cluster)). With neither set the gateway starts an embedded FalkorDB of its own, keeping its data in `FALKORDB_DATA_DIR`; the server binary it needs is described in [troubleshooting.md](troubleshooting.md#the-embedded-falkordb-does-not-start).',
    names: ['FALKORDB_URL', 'FALKORDB_CLUSTER_URLS', 'FALKORDB_DATA_DIR', 'FALKORDB_SERVER_BIN', 'FALKORDB_CONNECT_TIMEOUT_MS', 'DATABASE_LIMITS'],
  },
  {
    title: 'Read replicas and Sentinel',
    intro:
      'Read-only queries spread over replicas of `FALKORDB_URL` ([deployment.md](deployment.md#read-replicas)); or, instead of `FALKORDB_URL`, sentinels that name the primary and fail it over without losing an acknowledged write ([deployment.md](deployment.md#sentinel)). Reads from replicas may lag the primary.',
    names: [
      'FALKORDB_REPLICA_URLS',
      'FALKORDB_READ_AFTER_WRITE_MS',
      'FALKORDB_SENTINELS',
      'FALKORDB_SENTINEL_MASTER',
      'FALKORDB_SENTINEL_DATA_PASSWORD',
      'FALKORDB_SENTINEL_PASSWORD',
      'FALKORDB_SENTINEL_MIN_REPLICAS',
      'FALKORDB_SENTINEL_WAIT_TIMEOUT_MS',
      'FALKORDB_SENTINEL_FAILOVER_WAIT_MS',
    ],
  },
  {
    title: 'Tenant placement and dedicated instances',
    intro:
      'A tenant\'s graphs may live on a database of their own (`tenant add ID --database NAME`, `tenant move ID --to NAME`), and an instance may serve only some tenants. Each target of `DATABASE_TARGETS` is given by variables named after it, NAME upper-cased with `-` as `_`, read like the `FALKORDB_` variables of the same names: `DATABASE_TARGET_<NAME>_URL` (one server), `_REPLICA_URLS` (its read replicas), `_CLUSTER_URLS` (a cluster), or `_SENTINELS` with `_SENTINEL_MASTER`, `_SENTINEL_PASSWORD` and `_SENTINEL_DATA_PASSWORD`; each secret also as `_FILE`. Timeouts, Sentinel\'s write wait, `DATABASE_LIMITS` and `TENANT_ISOLATION` are the shared ones. [deployment.md](deployment.md#tenant-placement-and-dedicated-instances) shows the layouts.',
    names: ['DATABASE_TARGETS', 'SERVE_TENANTS', 'INSTANCE_NAME'],
  },
  {
    title: 'Listener and process',
    intro: 'Where the gateway listens, the URL clients know it by, its log level, and how long a graceful shutdown may take.',
    names: ['HOST', 'PORT', 'PUBLIC_URL', 'LOG_LEVEL', 'SHUTDOWN_TIMEOUT_MS'],
  },
  {
    title: 'Authentication and tokens',
    intro:
      'Which keys verify tokens, which claims they must carry, and the lifetimes of the tokens the gateway signs itself. Set at least one of `AUTH_JWT_SECRET`, `AUTH_PUBLIC_KEY_FILE`, `AUTH_JWKS_URL` or `AUTH_SIGNING_KEY_FILE` outside dev mode. [security.md](security.md) explains each key source, rotation, and the tenant registry.',
    names: [
      'AUTH_JWT_SECRET',
      'AUTH_PUBLIC_KEY_FILE',
      'AUTH_JWKS_URL',
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
      'AUTH_TENANT_CLAIM',
      'AUTH_SIGNING_KEY_FILE',
      'AUTH_PREVIOUS_KEYS_DIR',
      'AUTH_CLOCK_TOLERANCE',
      'AUTH_ALLOW_QUERY_TOKEN',
      'AUTH_HEADER_NAME',
      'ACCESS_TOKEN_TTL',
      'REFRESH_TOKEN_TTL',
      'TENANTS_REQUIRE_REGISTRATION',
    ],
  },
  {
    title: 'OAuth sign-in for connectors',
    intro:
      'When the gateway signs its own tokens it is also an OAuth 2.1 authorization server, so Claude\'s and ChatGPT\'s connectors (and any MCP client with OAuth) add it by URL and sign in with a one-time enrolment code (`device enrol`). [onboarding.md](onboarding.md) shows the steps; [security.md](security.md) what each piece defends against.',
    names: ['OAUTH_SERVER', 'OAUTH_REDIRECT_URIS', 'OAUTH_DYNAMIC_REGISTRATION', 'OAUTH_CLIENT_METADATA_DOCUMENTS', 'OAUTH_METADATA_PRIVATE_ADDRESSES', 'ENROLMENT_CODE_ATTEMPTS'],
  },
  {
    title: 'Connector sign-in at your identity provider',
    intro:
      'Optional: the sign-in page also offers "Sign in with …" an OpenID provider, and rules map who signed in to a tenant and scopes, so no enrolment code is needed. [onboarding.md](onboarding.md#sign-in-at-your-own-identity-provider) shows the set-up.',
    names: ['OAUTH_UPSTREAM_ISSUER', 'OAUTH_UPSTREAM_CLIENT_ID', 'OAUTH_UPSTREAM_CLIENT_SECRET', 'OAUTH_UPSTREAM_TENANTS', 'OAUTH_UPSTREAM_GROUPS_CLAIM', 'OAUTH_UPSTREAM_SCOPE', 'OAUTH_UPSTREAM_NAME'],
  },
  {
    title: 'Database-enforced isolation',
    intro:
      'A second layer under the key prefix: with `TENANT_ISOLATION=acl` each tenant\'s tool calls run as a database ACL user of its own that may touch only its keys, so even a key built wrongly is refused by the database. [security.md](security.md#two-layers-of-tenant-isolation) explains what the users may do and how to run it.',
    names: ['TENANT_ISOLATION', 'ACL_USER_SECRET', 'ACL_POOL_MAX'],
  },
  {
    title: 'Queries',
    intro:
      'What one tool call may ask of the database. A query over the length or parameter limits, or with `LOAD CSV` while it is off, is refused with a tool error before the database sees it; a query is stopped at its time limit; rows beyond the cap are left out and the result says `truncated: true`.',
    names: ['QUERY_TIMEOUT_MS', 'QUERY_MEMORY_MAX_BYTES', 'MAX_ROWS', 'MAX_RESULT_BYTES', 'MAX_REPLY_BYTES', 'MAX_QUERY_LENGTH', 'EXACT_FLOATS', 'ALLOW_LOAD_CSV', 'MAX_PARAMETERS_BYTES'],
  },
  {
    title: 'Caching',
    intro:
      'Per-tenant caches on each instance. A write, a graph deletion or any other change made through any gateway instance invalidates what every instance cached for that graph at once (a version token in the database server); a change made outside the gateway shows after at most the TTL. No entry is ever shared between tenants. [deployment.md](deployment.md#caching) explains the scheme.',
    names: ['SCHEMA_CACHE_TTL_MS', 'QUERY_CACHE_TTL_MS', 'QUERY_CACHE_MAX_BYTES'],
  },
  {
    title: 'Rate limits and capacity',
    intro:
      'How much one tenant may ask of the gateway. The rate is counted in the database server, so every instance shares one budget per tenant; the concurrency and SSE session caps hold per instance. The storage quota counts what a tenant\'s graphs take in the database server, measured by each instance at most once per `TENANT_STORAGE_CHECK_MS`.',
    names: ['MAX_BODY_BYTES', 'RATE_LIMIT_PER_MINUTE', 'RATE_LIMIT_BURST', 'RATE_LIMIT_PLANS', 'MAX_CONCURRENT_QUERIES_PER_TENANT', 'MAX_CONCURRENT_QUERIES', 'QUERY_QUEUE_TIMEOUT_MS', 'TENANT_STORAGE_QUOTA_BYTES', 'TENANT_STORAGE_CHECK_MS', 'TOKEN_REQUESTS_PER_MINUTE', 'SSE_MAX_SESSIONS_PER_DEVICE', 'SSE_MAX_SESSIONS_PER_TENANT', 'SSE_IDLE_TIMEOUT_MS'],
  },
  {
    title: 'Network and HTTPS',
    intro: 'Guards that run before any token is looked at, and HTTPS served by the gateway itself. Behind a TLS-terminating proxy, set `PUBLIC_URL` to its `https://` address and `TRUST_PROXY` to it.',
    names: ['ALLOWED_IPS', 'TRUST_PROXY', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'ALLOWED_ORIGINS', 'AUTH_FAILURES_PER_MINUTE'],
  },
  {
    title: 'Audit, metrics and usage',
    intro: 'What the gateway records about each call, and where. Audit events never hold a token or a parameter value.',
    names: ['AUDIT_QUERY_TEXT', 'AUDIT_LOG_FILE', 'AUDIT_STREAM_MAXLEN', 'AUDIT_BUFFER_MAX', 'AUDIT_REFUSALS_PER_MINUTE', 'METRICS_HOST', 'METRICS_PORT', 'METRICS_TENANT_LABELS', 'USAGE_RETENTION_DAYS'],
  },
  {
    title: 'Tracing (OpenTelemetry)',
    intro:
      'One span per tool call, sent over OTLP/HTTP, parented by the caller\'s W3C `traceparent` (the request\'s `_meta` or the HTTP header). Off unless an endpoint is set; these are the OpenTelemetry SDKs\' own variables, read the same way. [observability.md](observability.md#tracing) says what a span holds, and what it never holds.',
    names: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SDK_DISABLED'],
  },
];

export const OTHER_GROUP_TITLE = 'Other';

/** The variables of each group in table order, with every variable no group names under OTHER_GROUP_TITLE. */
export function groupedConfigVariables(): Array<{ title: string; intro: string; variables: ConfigVariable[] }> {
  const byName = new Map<string, ConfigVariable>(CONFIG_VARIABLES.map((v) => [v.name, v]));
  const placed = new Set<string>();
  const groups = CONFIG_GROUPS.map((group) => ({
    title: group.title,
    intro: group.intro,
    variables: group.names.flatMap((name) => {
      const variable = byName.get(name);
      if (variable === undefined || placed.has(name)) return [];
      placed.add(name);
      return [variable];
    }),
  }));
  const rest = CONFIG_VARIABLES.filter((v) => !placed.has(v.name));
  if (rest.length > 0) groups.push({ title: OTHER_GROUP_TITLE, intro: 'Variables not yet placed in a group (see `CONFIG_GROUPS` in scripts/config-table-markdown.ts).', variables: [...rest] });
  return groups.filter((g) => g.variables.length > 0);
}

function groupTable(variables: readonly ConfigVariable[]): string {
  const rows = variables.map(
    (v) => `| \`${v.name}\` | ${cell(meaning(v))} | ${v.default === undefined ? 'unset' : `\`${cell(v.default)}\``} | \`${cell(v.example)}\` |`,
  );
  return ['| variable | meaning | default | example |', '|---|---|---|---|', ...rows].join('\n');
}

/** The whole of docs/configuration.md. */
export function configurationDocMarkdown(): string {
  const secrets = CONFIG_VARIABLES.filter(isSecretVariable);
  const secretList = secrets.map((v) => `\`${v.name}\` (\`${secretFileVariable(v.name)}\`)`).join(', ');
  const fileVariables = CONFIG_VARIABLES.filter((v) => !isSecretVariable(v) && v.name.endsWith('_FILE'))
    .map((v) => `\`${v.name}\``)
    .join(', ');
  const groups = groupedConfigVariables();
  const lines = [
    '<!-- Generated from CONFIG_VARIABLES in src/config/variables.ts by `npx tsx scripts/config-table.ts`; edit those, not this file. -->',
    '',
    '# Configuration',
    '',
    `The gateway reads ${CONFIG_VARIABLES.length} environment variables, once, at start. Every value is checked then: a bad one stops start-up (and any command that reads the configuration) with one line that names the variable, says what is wrong and gives an example, and exit code 2. A variable set to the empty string counts as unset.`,
    '',
    'The commands (`token`, `tenant`, `audit`, `stdio`) read the same variables as `serve`: run them with the environment the gateway runs with, so that they reach the same database and use the same keys.',
    '',
    ...groups.map((g) => `- [${g.title}](#${g.title.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')})`),
    '- [Secrets in files](#secrets-in-files)',
    '- [Dev mode](#dev-mode)',
    '- [A production example](#a-production-example)',
    '',
    'Durations (`ACCESS_TOKEN_TTL`, `REFRESH_TOKEN_TTL`, and `--ttl` and `--since` on the command line) are a whole number above zero with at most one unit: ' +
      `${DURATION_FORMS}.`,
    '',
  ];
  for (const group of groups) {
    lines.push(`## ${group.title}`, '', group.intro, '', groupTable(group.variables), '');
  }
  lines.push(
    '## Secrets in files',
    '',
    `Secret variables also read their value from a file named by the same variable with \`_FILE\` appended, the form Docker and Kubernetes secrets are mounted as: ${secretList}.`,
    '',
    '- The file holds the value alone. One trailing newline is dropped (editors and `echo` add it); anything else in the file is part of the value.',
    '- The value from the file is checked like the variable itself; an error names the `_FILE` variable and never shows the value.',
    '- Setting a variable and its `_FILE` form together is an error.',
    '- An unreadable or empty file stops start-up, naming the `_FILE` variable and the reason.',
    '- Secret values are never printed, not even in an error about them.',
    '',
    `Variables that already name a file (${fileVariables}) have no \`_FILE\` form of their own.`,
    '',
    '## Dev mode',
    '',
    'With none of `AUTH_JWT_SECRET` (or `AUTH_JWT_SECRET_FILE`), `AUTH_PUBLIC_KEY_FILE`, `AUTH_JWKS_URL` or `AUTH_SIGNING_KEY_FILE` set, the gateway runs in dev mode: it signs its own tokens with a key it keeps in `FALKORDB_DATA_DIR`, and `serve` prints a token for tenant `demo` with client configs. Dev mode runs only on a loopback `HOST`; on any other address start-up stops and names `HOST`.',
    '',
    '## A production example',
    '',
    'Several instances behind a TLS-terminating load balancer, on a FalkorDB of your own, with tokens the gateway signs itself and only registered tenants:',
    '',
    '```sh',
    'FALKORDB_URL_FILE=/run/secrets/falkordb-url',
    'HOST=0.0.0.0',
    'PORT=3003',
    'PUBLIC_URL=https://graphs.example.com',
    'TRUST_PROXY=10.0.0.0/8',
    'AUTH_SIGNING_KEY_FILE=/run/secrets/gateway-signing.pem',
    'AUTH_PREVIOUS_KEYS_DIR=/etc/falkordb-mcp-gateway/previous-keys',
    'TENANTS_REQUIRE_REGISTRATION=true',
    'RATE_LIMIT_PLANS=free=60,pro=3000',
    'AUDIT_LOG_FILE=/var/log/falkordb-mcp-gateway/audit.log',
    '```',
    '',
  );
  return lines.join('\n');
}
