// The typed, frozen configuration loadConfig returns, grouped by concern.

import type { UpstreamRule } from '../tenancy/upstream-rules.js';
import type { LogLevel, SentinelNode } from './parsers.js';

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
  logLevel: LogLevel;
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
    /** The header the bearer token is read from, as configured (compare it case-insensitively). */
    headerName: string;
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
  /** The databases tenants can be placed on besides the shared one (DATABASE_TARGETS), by name. */
  targets: Readonly<Record<string, DatabaseTarget>>;
  instance: {
    /** INSTANCE_NAME, else the host name: how the audit trail and the metrics name this instance. */
    name: string;
    /** SERVE_TENANTS: the only tenants this instance serves (ids or `*` patterns); undefined: every tenant. */
    serveTenants: readonly string[] | undefined;
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
    /** Written into every event as `instance` (INSTANCE_NAME, else the host name). */
    instance?: string;
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
  /** Spans of tool calls sent over OTLP/HTTP; undefined: tracing off (no OTLP endpoint set, or OTEL_SDK_DISABLED). */
  tracing: TracingConfig | undefined;
}

export type TraceSampler = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

export interface TracingConfig {
  /** Where spans are POSTed: the OTLP/HTTP traces URL, `/v1/traces` included. */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  /** Sent with every export (an API key); secret. */
  headers: Readonly<Record<string, string>>;
  sampler: TraceSampler;
  /** Share of traces a traceidratio sampler keeps, 0 to 1. */
  ratio: number;
  serviceName: string;
  resourceAttributes: Readonly<Record<string, string>>;
}

/** A database a tenant may be placed on: one server (with read replicas), a Sentinel group or a cluster. */
export type DatabaseTarget = Pick<Config['falkordb'], 'url' | 'clusterUrls' | 'replicaUrls' | 'sentinel'>;

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
