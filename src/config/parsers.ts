// One zod parser per kind of value an environment variable holds. Each takes
// the variable's text and yields its typed value, or fails with a message
// that completes "VARIABLE (got …) …"; a message never quotes a secret.

import { isIP } from 'node:net';
import { z } from 'zod';
import { DURATION_FORMS, formatDuration, parseDuration } from '../duration.js';
import { parseCidr } from '../cidr.js';
import { parseSize, SIZE_FORMS } from '../size.js';
import { parseUpstreamRules } from '../tenancy/upstream-rules.js';
import { isLoopbackHost } from './hosts.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

export function integer(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Whether `text` is an absolute URL that `accept` takes. */
function urlMatches(text: string, accept: (url: URL) => boolean): boolean {
  return URL.canParse(text) && accept(new URL(text));
}

export const httpUrl = z
  .string()
  .trim()
  .refine((v) => urlMatches(v, (u) => u.protocol === 'http:' || u.protocol === 'https:'), 'must be an http:// or https:// URL');

export const falkordbUrl = z
  .string()
  .trim()
  .refine((v) => v.startsWith('/') || urlMatches(v, (u) => (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== ''), 'must be redis://host:port, rediss://host:port or an absolute unix socket path');

export const nonEmpty = z.string().trim().min(1, 'must not be empty');

/** Why a list of cluster seed URLs is unusable; never quotes a seed, which may hold a password. */
export function clusterSeedsProblem(seeds: readonly string[]): string | undefined {
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

export const clusterSeeds = z.string().transform((text, ctx) => {
  const seeds = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const problem = clusterSeedsProblem(seeds);
  if (problem === undefined) return seeds;
  ctx.issues.push({ code: 'custom', input: text, message: problem });
  return z.NEVER;
});

/** Comma-separated redis:// or rediss:// URLs (no unix sockets: a replica is another machine's server). */
export const replicaUrlList = z.string().transform((text, ctx) => {
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

export const sentinelList = list((entry) => parseSentinelNode(entry), 'host:port (a sentinel\'s address, such as sentinel-1:26379)').transform((entries) => entries.map(parseSentinelNode));

/** Whole seconds from `90`, `15m`, `1h`, `30d`, …, capped so a typo cannot mint a token for years. */
export function duration(maxSec: number) {
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
export function size() {
  return z.string().transform((text, ctx) => {
    try {
      return parseSize(text);
    } catch {
      ctx.issues.push({ code: 'custom', input: text, message: `must be a size in bytes, such as ${SIZE_FORMS}` });
      return z.NEVER;
    }
  });
}

/** A comma-separated list; empty entries are dropped. */
export function list(each: (entry: string) => void, what: string) {
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

export const cidrList = list((entry) => parseCidr(entry), 'an IP address or CIDR range');

/** A database target's name: what `tenant add --database` and `tenant move --to` take, and what its variables are named after. */
export const TARGET_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const targetNameList = list((entry) => {
  if (!TARGET_NAME.test(entry)) throw new Error('not a target name');
  if (entry === 'default') throw new Error('reserved');
}, 'a target name (1 to 63 lower-case letters, digits and -, starting with a letter or digit; `default` is the shared database and is always there)').transform((names, ctx) => {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      ctx.issues.push({ code: 'custom', input: names.join(','), message: `names ${JSON.stringify(name)} twice` });
      return z.NEVER;
    }
    seen.add(name);
  }
  return names;
});

/** Tenant ids or patterns with `*`, as SERVE_TENANTS lists them. */
export const tenantPatternList = list((entry) => {
  if (entry.length > 257 || /\s/.test(entry) || entry === '!') throw new Error('not a tenant pattern');
}, 'a tenant id or pattern (no spaces, at most 256 characters; `*` stands for any run of characters, a leading `!` excludes)').refine((entries) => entries.length > 0, 'must name at least one tenant');

export const originList = list((entry) => {
  const url = new URL(entry);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== entry.replace(/\/$/, '')) throw new Error('not an origin');
}, 'an origin such as https://app.example.com (scheme, host and port, no path)');

export const redirectUriList = list((entry) => {
  const url = new URL(entry.endsWith('*') ? entry.slice(0, -1) : entry);
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(url.protocol)) throw new Error('not a redirect URI');
  if (url.hash !== '') throw new Error('has a fragment');
}, 'a redirect URI such as https://app.example.com/callback (no fragment; a trailing * allows every URI that starts with the rest)');

/** An OpenID issuer: https, or http on a loopback address (a provider on the same machine). */
export const upstreamIssuer = z
  .string()
  .trim()
  .refine((v) => urlMatches(v, (u) => u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname.replace(/^\[|\]$/g, '')))), 'must be an https:// URL (http:// only on a loopback address)')
  .transform((v) => v.replace(/\/+$/, ''));

export const upstreamRules = z.string().transform((text, ctx) => {
  try {
    return parseUpstreamRules(text);
  } catch (error) {
    ctx.issues.push({ code: 'custom', input: text, message: (error as Error).message });
    return z.NEVER;
  }
});

/** OpenID scopes, space-separated; an ID token needs `openid`. */
export const upstreamScope = z.string().trim().refine((v) => v.split(/\s+/).includes('openid'), 'must include openid');

export const trustProxy = z.string().transform((text, ctx): false | number | string[] => {
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

export const ratePlans = z.string().transform((text, ctx) => {
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

export const logLevel = z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` });

/** Headers HTTP, MCP or the gateway itself read for something else: a token there would be lost or break them. */
const RESERVED_HEADERS = new Set([
  'accept', 'connection', 'content-length', 'content-type', 'cookie', 'forwarded', 'host', 'last-event-id', 'mcp-protocol-version',
  'mcp-session-id', 'origin', 'te', 'transfer-encoding', 'upgrade', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id',
]);

/** An HTTP header name (RFC 9110 token), as written, for the header the bearer token comes in. */
export const headerName = nonEmpty
  .refine((v) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v), 'must be an HTTP header name: letters, digits and ! # $ % & \' * + - . ^ _ ` | ~, without spaces or a colon')
  .refine((v) => !RESERVED_HEADERS.has(v.toLowerCase()), 'is a header HTTP, MCP or the gateway already reads for something else; pick another name, e.g. X-Gateway-Authorization');

/** An address to listen on. */
export const hostName = nonEmpty.refine((v) => isIP(v) !== 0 || /^[A-Za-z0-9.-]+$/.test(v), 'must be an IP address or a host name');

/** An HMAC key: short ones are guessable. */
export const secretKey = z.string().refine((v) => Buffer.byteLength(v, 'utf8') >= 32, 'must be at least 32 bytes long');

/** A lower-case choice among a few words, such as `prefix` or `acl`. */
export function oneOf<const T extends readonly [string, ...string[]]>(choices: T, error: string) {
  return z.string().trim().toLowerCase().pipe(z.enum(choices, { error }));
}

export const metricsPort = z.string().trim().toLowerCase().transform((text, ctx): number | 'off' => {
  if (text === 'off') return 'off';
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  ctx.issues.push({ code: 'custom', input: text, message: 'must be a port number (0 to 65535) or off' });
  return z.NEVER;
});

export const metricsTenantLabels = z.string().trim().toLowerCase().transform((text, ctx): 'all' | 'none' | number => {
  if (text === 'all' || text === 'none') return text;
  const top = /^top:(\d{1,6})$/.exec(text);
  if (top !== null && Number(top[1]) > 0) return Number(top[1]);
  ctx.issues.push({ code: 'custom', input: text, message: 'must be all, none or top:N (N above zero)' });
  return z.NEVER;
});
